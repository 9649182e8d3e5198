import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// Inputs that made a fuzz target (Fuzz/, docs/fuzzing.md) crash, run out of memory or hang, kept as found, plus
/// the hostile shapes that guard a limit. Each must give its expected answer; `make test`'s fuzz step also replays
/// them under the sanitizers, within libFuzzer's 10 s and 2 GiB limits per input (docs/fuzzing.md).
@Suite struct FuzzRegressionTests {
    static let folder = fixtures.appendingPathComponent("fuzz-regressions")
    /// Text that one of each input's findings must contain, by file name.
    static let expected: [String: String] = {
        let list = fixtures.appendingPathComponent("fuzz-regressions-expected.txt")
        let text = (try? String(contentsOf: list, encoding: .utf8)) ?? ""
        return Dictionary(
            text.split(separator: "\n").compactMap { line in
                line.firstRange(of: ": ").map { (String(line[..<$0.lowerBound]), String(line[$0.upperBound...])) }
            }, uniquingKeysWith: { first, _ in first })
    }()
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()

    @Test func everyRegressionInputHasAnExpectation() {
        #expect(!Self.files.isEmpty)
        #expect(Set(Self.files) == Set(Self.expected.keys))
    }

    @Test(arguments: files.filter { $0.hasSuffix(".yml") })
    func runbookInputGivesItsFindingQuickly(_ file: String) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
        let expected = try #require(Self.expected[file])
        var findings: [Finding] = []
        let elapsed = ContinuousClock().measure { findings = RunbookLoader().parse(text, file: file).1 }
        #expect(elapsed < hangGuard)
        #expect(findings.contains { $0.message.contains(expected) }, "\(findings.map { $0.description.prefix(300) })")
    }
}
