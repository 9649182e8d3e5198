import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct MalformedRunbookTests {
    static let folder = fixtures.appendingPathComponent("malformed")
    static let expected: [String: String] = {
        let text =
            (try? String(contentsOf: fixtures.appendingPathComponent("malformed-expected.txt"), encoding: .utf8)) ?? ""
        return Dictionary(
            text.split(separator: "\n").map { line in
                let file = String(line.prefix { $0 != ":" })
                // The list of kinds grows with the registry; the fixtures name it KINDS.
                let kinds = ProbeRegistry.standard.kinds.keys.sorted().joined(separator: ", ")
                return (file, line.replacingOccurrences(of: "KINDS", with: kinds))
            }, uniquingKeysWith: { first, _ in first })
    }()
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter {
        $0.hasSuffix(".yml")
    }.sorted()

    @Test func thereAreAtLeastFortyMalformedRunbooks() {
        #expect(Self.files.count >= 40)
        #expect(Set(Self.files) == Set(Self.expected.keys))
    }

    @Test(arguments: files)
    func eachMalformedRunbookGivesOneLocatedError(_ file: String) throws {
        let catalog = RunbookCatalog.load([Self.folder.appendingPathComponent(file).path])
        #expect(catalog.runbooks.isEmpty)
        #expect(catalog.unreadable.isEmpty)
        #expect(catalog.findings.count == 1, "\(catalog.findings)")
        let finding = try #require(catalog.findings.first)
        let printed = finding.description.replacingOccurrences(of: Self.folder.path + "/", with: "")
        #expect(printed == Self.expected[file])
        #expect(finding.location.line >= 1 && finding.location.column >= 1)
    }
}
