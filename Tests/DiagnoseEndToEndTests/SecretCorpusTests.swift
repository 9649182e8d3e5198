import Foundation
import Testing

/// Every shape of `DiagnosePlatformTests/Fixtures/secret-shapes.tsv`, printed by programs a runbook runs, reaches
/// neither the text output, nor the JSON, nor either file of the handoff report.
@Suite struct SecretCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DiagnosePlatformTests/Fixtures/secret-shapes.tsv")

    @Test func noSecretOfTheCorpusReachesAnyOutput() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        let shapes = try String(contentsOf: Self.corpus, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
        try #require(shapes.count >= 40 && shapes.allSatisfy { $0.count == 2 })
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try plant(shapes.map { $0[0] }.joined(separator: "\n") + "\n", at: "observed.txt", in: folder)

        // Steps of 10 lines each, every one failing so that its evidence (the program's output) is shown everywhere.
        let chunks = stride(from: 1, through: shapes.count, by: 10).map { ($0, min($0 + 9, shapes.count)) }
        let steps = chunks.enumerated().map { index, lines in
            let next = index + 1 < chunks.count ? "print-\(index + 1)" : "leaked"
            return """
                  print-\(index):
                    probe: command
                    with: { argv: [/usr/bin/sed, -n, "\(lines.0),\(lines.1)p", observed.txt], expect_exit: 7 }
                    on: { pass: \(next), fail: \(next) }
                """
        }.joined(separator: "\n")
        try plant(
            """
            id: corpus
            title: Secret corpus
            start: print-0
            steps:
            \(steps)
            diagnoses:
              leaked: { severity: critical, title: Programs printed secrets }
            """, at: "runbooks/corpus.yml", in: folder)

        let text = await diagnose(["run", "corpus", "--verbose"], in: folder)
        let json = await diagnose(["run", "corpus", "--format", "json"], in: folder)
        let report = await diagnose(["report", "corpus", "--output", "handoff.md"], in: folder)
        for run in [text, json, report] { #expect(run.status == 2, "\(run.stderr)") }
        let markdown = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
        let reportJSON = try String(contentsOf: folder.appendingPathComponent("handoff.json"), encoding: .utf8)
        let outputs = ["text": text.stdout, "json": json.stdout, "markdown": markdown, "report json": reportJSON]
        for (name, output) in outputs {
            // The evidence is there, from every step: shapes of the first, middle and last lines, redacted.
            for shown in [
                "redis://:***@redis", "mysqldump", "X-Amz-Security-Token=***", "GPG_PASSPHRASE=***", "APP_TOKEN=",
            ] {
                #expect(output.contains(shown), "\(name) does not show '\(shown)'")
            }
            for shape in shapes {
                // JSON escapes quotes and slashes; compare the secret's JSON form too.
                let escaped = shape[1].replacingOccurrences(of: "\"", with: "\\\"")
                    .replacingOccurrences(of: "/", with: "\\/")
                #expect(!output.contains(shape[1]) && !output.contains(escaped), "\(name): '\(shape[0])' survived")
            }
        }
    }
}
