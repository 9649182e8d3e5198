import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// Hostile input values, from `--set`, the environment and the env file, reach programs as single argv elements
/// through `{{ input }}` in `command` `argv`, in `logs` `command:` and in `compose-config` `file:` (passed to the
/// compose CLI): never an extra argument, never a shell command. The unit-level check is
/// CommandProbeTests.argumentsAreSingleArgvElementsNeverShellWords.
@Suite(.serialized) struct InjectionTests {
    static let values = [
        "x; touch PWNED",
        "$(touch PWNED)",
        "`touch PWNED`",
        "line one\nline two --help",
        "--version",
        "-f /etc/passwd",
        "' \" * | && || > out",
    ]

    enum Source: String, CaseIterable { case set, environment, envFile }

    /// Records its arguments, NUL-separated, to `<its folder>/<first argument>.args`.
    static let recorder = """
        #!/bin/sh
        out="${0%/*}/$1.args"
        shift
        : > "$out"
        for a in "$@"; do printf '%s\\0' "$a" >> "$out"; done
        """

    /// A fake standalone `docker-compose` that records its arguments to a fresh `compose.*` file and prints nothing.
    static let fakeCompose = """
        #!/bin/sh
        out=$(/usr/bin/mktemp "${0%/*}/compose.XXXXXX")
        for a in "$@"; do printf '%s\\0' "$a" >> "$out"; done
        """

    static func runbook(recorder: String) -> String {
        let indices = values.indices.map { $0 + 1 }
        let inputs = indices.map { "  v\($0): ${DGREL_V\($0):-unset}" }.joined(separator: "\n")
        let arguments = indices.map { "\"{{ v\($0) }}\"" }.joined(separator: ", ")
        let configs = indices.map { index in
            let next = index < values.count ? "config-\(index + 1)" : "done"
            return """
                  config-\(index):
                    probe: compose-config
                    with: { file: "{{ v\(index) }}" }
                    on: { pass: \(next), fail: \(next), error: \(next) }
                """
        }.joined(separator: "\n")
        return """
            id: hostile
            title: Hostile inputs
            inputs:
            \(inputs)
            start: command
            steps:
              command:
                probe: command
                with: { argv: ["\(recorder)", "command", \(arguments), "end"] }
                on: { pass: logs, fail: broken }
              logs:
                probe: logs
                with: { command: ["\(recorder)", "logs", \(arguments), "end"], pattern: never-printed }
                on: { pass: config-1, fail: broken }
            \(configs)
            diagnoses:
              done: { severity: ok, title: Done }
              broken: { severity: critical, title: Broken }
            """
    }

    /// A value written for a dotenv file: double quotes, with the escapes it reads.
    static func dotenvQuoted(_ value: String) -> String {
        "\""
            + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    static func recorded(_ path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test(arguments: Source.allCases)
    func hostileValuesStaySingleArguments(from source: Source) async throws {
        let folder = try workspace([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let recorder = bin.appendingPathComponent("record").path
        try Self.recorder.write(toFile: recorder, atomically: true, encoding: .utf8)
        try Self.fakeCompose.write(
            toFile: bin.appendingPathComponent("docker-compose").path, atomically: true, encoding: .utf8)
        for name in ["record", "docker-compose"] { chmod(bin.appendingPathComponent(name).path, 0o755) }
        try Self.runbook(recorder: recorder).write(
            to: folder.appendingPathComponent("runbooks/hostile.yml"), atomically: true, encoding: .utf8)
        // diagnose checks that the compose file exists before calling the CLI: give each hostile name a file.
        for value in Self.values {
            let file = folder.appendingPathComponent(value)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try "services: {}\n".write(to: file, atomically: false, encoding: .utf8)
        }

        var arguments = ["--all", "--format", "json"]
        var environment = [
            "PATH": "\(bin.path):/usr/bin:/bin", "HOME": folder.path,
            "DOCKER_CONFIG": folder.appendingPathComponent("docker-config").path,
            // The recording fake is a standalone docker-compose; a real v2 plugin installed on the machine would win.
            "DIAGNOSE_COMPOSE": "v1",
        ]
        for (index, value) in Self.values.enumerated() {
            switch source {
            case .set: arguments += ["--set", "v\(index + 1)=\(value)"]
            case .environment: environment["DGREL_V\(index + 1)"] = value
            case .envFile: break
            }
        }
        if source == .envFile {
            let lines = Self.values.enumerated().map { "DGREL_V\($0.offset + 1)=\(Self.dotenvQuoted($0.element))" }
            try (lines.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        }

        let run = await diagnose(arguments, in: folder, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let report = try RunReport.decode(Data(run.stdout.utf8))
        let path = try #require(report.runbooks.first?.path)
        #expect(path.map(\.outcome) == Array(repeating: .pass, count: 2 + Self.values.count), "\(path)")

        #expect(try Self.recorded(bin.appendingPathComponent("command.args").path) == Self.values + ["end"])
        #expect(try Self.recorded(bin.appendingPathComponent("logs.args").path) == Self.values + ["end"])
        let composeCalls = try FileManager.default.contentsOfDirectory(atPath: bin.path)
            .filter { $0.hasPrefix("compose.") }
            .map { try Self.recorded(bin.appendingPathComponent($0).path) }
        #expect(composeCalls.count == Self.values.count)
        for value in Self.values {
            let call = composeCalls.first { argv in argv.count > 1 && argv[1].hasSuffix("/" + value) }
            let argv = try #require(call, "no compose call got the file \(value)")
            #expect(
                argv.count == 7 && argv[0] == "-f" && argv[2] == "--project-directory" && argv[6] == "config", "\(argv)"
            )
        }
        for argv in composeCalls {
            #expect(!argv.contains("--version") && !argv.contains("/etc/passwd"), "\(argv)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("PWNED").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }
}
