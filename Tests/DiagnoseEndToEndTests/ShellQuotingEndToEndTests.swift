import DiagnoseEngine
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// Hostile values from `--set`, the environment and the env file go into a `command` probe's `shell:` script as data
/// (the script prints them back unchanged, no marker file appears), and the fix commands the report prints, pasted
/// into a real `/bin/sh -c`, hand the value over as one argument. `{{ name | raw }}` really inserts the text as is.
@Suite(.serialized) struct ShellQuotingEndToEndTests {
    static let values = [
        "$(touch PWNED)", "`touch PWNED`", "x; touch PWNED", "it's", "say \"hi\"", "line one\nline two", "*",
        "a  b", "~",
    ]

    static func runbook(count: Int) -> String {
        let inputs = (1...count).map { "  v\($0): ${DGSQ_V\($0):-unset}" }.joined(separator: "\n")
        let steps = (1...count).map { index in
            let next = index < count ? "s\(index + 1)" : "raw"
            return """
                  s\(index):
                    probe: command
                    with: { shell: "printf '%s' {{ v\(index) }} > got-\(index)" }
                    on: { pass: \(next), fail: \(next), error: \(next) }
                """
        }.joined(separator: "\n")
        let fixes = (1...count).map { "\"printf '%s\\\\n' {{ v\($0) }}\"" }.joined(separator: ", ")
        return """
            id: quoting
            title: Quoting
            inputs:
            \(inputs)
              r: touch RAWMARK
            start: s1
            steps:
            \(steps)
              raw:
                probe: command
                with: { shell: "{{ r | raw }}" }
                on: { pass: done, fail: done, error: done }
            diagnoses:
              done: { severity: warning, title: Done, fix: [\(fixes)] }
            """
    }

    @Test(arguments: InjectionTests.Source.allCases)
    func hostileValuesAreDataInShellScriptsAndInPrintedFixes(from source: InjectionTests.Source) async throws {
        let folder = try workspace([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.runbook(count: Self.values.count).write(
            to: folder.appendingPathComponent("runbooks/quoting.yml"), atomically: true, encoding: .utf8)
        var arguments = ["--all", "--format", "json"]
        var environment: [String: String] = [:]
        for (index, value) in Self.values.enumerated() {
            switch source {
            case .set: arguments += ["--set", "v\(index + 1)=\(value)"]
            case .environment: environment["DGSQ_V\(index + 1)"] = value
            case .envFile: break
            }
        }
        if source == .envFile {
            let lines = Self.values.enumerated().map {
                "DGSQ_V\($0.offset + 1)=\(InjectionTests.dotenvQuoted($0.element))"
            }
            try (lines.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        }

        let run = await diagnose(arguments, in: folder, environment: environment)
        let report = try RunReport.decode(Data(run.stdout.utf8))
        let result = try #require(report.runbooks.first, "\(run.stdout)\n\(run.stderr)")
        #expect(result.path.map(\.outcome) == Array(repeating: .pass, count: Self.values.count + 1), "\(result.path)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("PWNED").path))
        // The opt-out is real: the raw value ran as a command.
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("RAWMARK").path))
        for (index, value) in Self.values.enumerated() {
            let got = try String(contentsOf: folder.appendingPathComponent("got-\(index + 1)"), encoding: .utf8)
            #expect(got == value, "shell value \(index + 1)")
        }

        let fixes = result.diagnosis.fix
        #expect(fixes.count == Self.values.count)
        for (index, fix) in fixes.enumerated() {
            let pasted = try Self.sh(fix.command, in: folder)
            #expect(pasted == Self.values[index] + "\n", "fix \(index + 1): \(fix.command)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("PWNED").path))
        #expect(fixes[0].command == "printf '%s\\n' '$(touch PWNED)'")
    }

    /// Runs a command line through a real `/bin/sh -c` in a folder and returns what it printed.
    static func sh(_ command: String, in folder: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }
}
