import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// The file search reads blocks backwards and searches them as it goes; it must find exactly what searching the
/// whole tail in memory finds, whatever the block size, line lengths, trailing newline or window.
@Suite struct LogFileSearchTests {
    /// A deterministic generator, so that a failure names a reproducible case.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
    }

    func lines(_ count: Int, _ random: inout Generator) -> [String] {
        let words = ["INFO ok", "ERROR disk full", "", "  File \"x.py\"", "WARN slow", "error lower", "ERRORS"]
        return (0..<count).map { index in
            let word = words[Int(random.next() % UInt64(words.count))]
            let padding = String(repeating: "x", count: Int(random.next() % 40))
            return random.next() % 9 == 0 ? padding + padding + padding : "\(index) \(word) \(padding)"
        }
    }

    @Test(arguments: ["ERROR", "(?i)error", "ERROR|WARN slow", "^\\d+ ERR(OR|ORS)\\b", "x{30}$", "^$"])
    func findsWhatTheWholeTailSearchFinds(_ source: String) throws {
        let directory = try temporaryDirectory("logsearch")
        let search = LineSearch(try Pattern(source))
        var random = Generator(state: UInt64(source.utf8.count))
        for round in 0..<60 {
            let text =
                lines(Int(random.next() % 120), &random).joined(separator: "\n")
                + (round % 2 == 0 ? "\n" : "")
            let path = directory + "/\(round).log"
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            let tail = Int(random.next() % 150) + 1
            let block = [1, 2, 7, 33, 100, 1 << 20][round % 6]

            let whole = try LogTail.read(path: path, lines: tail)
            let expected = search.matchingLines(in: whole.bytes).map { whole.bytes[$0] }
            let (found, excerpt) = try LogFileSearch.search(path: path, lines: tail, for: search, blockSize: block)
            let bytes = Array(text.utf8)
            let got = found.matches.map { bytes[$0] }
            #expect(got == expected, "pattern \(source), round \(round), tail \(tail), block \(block)")
            #expect(found.windowStart == whole.sourceSize - whole.bytes.count, "round \(round)")
            if let last = found.matches.last {
                let excerpt = try #require(excerpt)
                let local = (last.lowerBound - excerpt.base)..<(last.upperBound - excerpt.base)
                #expect(excerpt.bytes[local] == bytes[last])
            } else {
                #expect(excerpt == nil)
            }
        }
    }

    @Test func theProbeGivesTheSameExcerptFromAFileAsFromMemory() async throws {
        let directory = try temporaryDirectory("logsearch")
        let text =
            (1...500).map { "INFO line \($0)" }.joined(separator: "\n") + "\n"
            + "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n"
            + "    import app.tasks\nModuleNotFoundError: No module named 'app.tasks'\nINFO after\n"
        try text.write(toFile: directory + "/app.log", atomically: false, encoding: .utf8)
        let probe = try LogsProbe(
            ProbeArguments([
                "file": .scalar("app.log"), "pattern": .scalar("ModuleNotFoundError"), "tail": .scalar("100"),
            ]))
        let context = ProbeContext(
            timeout: .seconds(10), environment: ProcessInfo.processInfo.environment, workingDirectory: directory)
        let fromFile = await probe.run(context)
        let inMemory = probe.judge(
            try LogTail.read(path: directory + "/app.log", lines: 100), name: "app.log", notes: [])
        #expect(fromFile.summary.contains("a Python traceback ending in ModuleNotFoundError"))
        #expect(fromFile.summary == inMemory.summary)
        #expect(fromFile.evidence.dropFirst() == inMemory.evidence.dropFirst())
    }
}
