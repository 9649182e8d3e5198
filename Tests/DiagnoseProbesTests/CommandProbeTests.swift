import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct CommandProbeTests {
    func observe(_ arguments: [String: ArgumentValue], timeout: Duration = .seconds(5)) async throws -> Observation {
        let probe = try CommandProbe(ProbeArguments(arguments))
        let context = ProbeContext(
            timeout: timeout, environment: ProcessInfo.processInfo.environment, workingDirectory: "/tmp")
        return await probe.run(context)
    }

    static func list(_ items: String...) -> ArgumentValue { .list(items.map { .scalar($0) }) }

    @Test func passesOnExpectedExitAndOutput() async throws {
        let observation = try await observe(["argv": Self.list("echo", "PONG"), "stdout_matches": .scalar("^PONG$")])
        #expect(observation.outcome == .pass)
        #expect(observation.summary == "PONG")
        #expect(observation.evidence.first == "$ echo PONG")
    }

    @Test func failsOnExitStatusAndOutputMismatch() async throws {
        let status = try await observe(["shell": .scalar("echo oops >&2; exit 3")])
        #expect(status.outcome == .fail)
        #expect(status.cause == "exit-status")
        #expect(status.evidence.contains("stderr: oops"))
        let expected = try await observe(["shell": .scalar("exit 3"), "expect_exit": .scalar("3")])
        #expect(expected.outcome == .pass)
        let mismatch = try await observe(["argv": Self.list("echo", "hello"), "stdout_matches": .scalar("PONG")])
        #expect(mismatch.cause == "output-mismatch")
        let stderrMismatch = try await observe(["argv": Self.list("true"), "stderr_matches": .scalar("warning")])
        #expect(stderrMismatch.cause == "output-mismatch")
    }

    @Test func aMissingOrNonExecutableProgramIsAnError() async throws {
        let missing = try await observe(["argv": Self.list("/nonexistent/program")])
        #expect(missing.outcome == .error)
        #expect(missing.cause == "not-found")
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("script.sh")
        try "#!/bin/sh\necho hi\n".write(to: script, atomically: true, encoding: .utf8)
        let notExecutable = try await observe(["argv": Self.list(script.path)])
        #expect(notExecutable.outcome == .error)
        #expect(notExecutable.cause == "not-found")
        #expect(notExecutable.summary.contains("not executable"))
    }

    @Test func aTimeoutKillsTheWholeProcessGroupIncludingGrandchildrenThatIgnoreSIGTERM() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pids = folder.appendingPathComponent("pids")
        // The program ignores SIGTERM and leaves grandchildren holding the output pipe.
        let script =
            "trap '' TERM; (trap '' TERM; sleep 60) & echo $! >> \(pids.path); (sleep 60 >&2) & echo $! >> \(pids.path); echo $$ >> \(pids.path); sleep 60"
        let clock = ContinuousClock()
        let began = clock.now
        let observation = try await observe(["shell": .scalar(script)], timeout: .milliseconds(400))
        let elapsed = began.duration(to: clock.now)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "timeout")
        #expect(elapsed < hangGuard)
        let recorded = try String(contentsOf: pids, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(recorded.count == 3)
        #expect(await allGone(recorded), "still alive: \(recorded.filter(isAlive))")
    }

    @Test func grandchildrenLeftBehindByAFinishedProgramAreKilled() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("pid")
        let observation = try await observe(["shell": .scalar("sleep 60 & echo $! > \(pidFile.path); echo done")])
        #expect(observation.outcome == .pass)
        let pid = try #require(
            Int32(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await allGone([pid]))
    }

    @Test func aChattyCommandIsCapturedUpToTheBoundAndDrained() async throws {
        let observation = try await observe([
            "shell": .scalar("head -c 5000000 /dev/zero | tr '\\\\0' x; echo; echo end")
        ])
        #expect(observation.outcome == .pass)
        let stdout = try #require(observation.evidence.first { $0.hasPrefix("stdout:") })
        #expect(stdout.contains("more bytes of stdout read and dropped"))
        #expect(stdout.count < 10_000)
    }

    @Test func argumentsAreSingleArgvElementsNeverShellWords() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let marker = folder.appendingPathComponent("pwned").path
        let hostile = "x; touch \(marker) $(touch \(marker)) `touch \(marker)`\n--help"
        let observation = try await observe(["argv": Self.list("printf", "%s", hostile)])
        #expect(observation.outcome == .pass)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(observation.evidence.contains { $0.contains("touch") })
    }

    @Test func argumentsAreChecked() {
        #expect(throws: ProbeArgumentError.self) { try CommandProbe(ProbeArguments([:])) }
        #expect(throws: ProbeArgumentError.self) {
            try CommandProbe(ProbeArguments(["argv": Self.list("true"), "shell": .scalar("true")]))
        }
        #expect(throws: ProbeArgumentError.self) {
            try CommandProbe(ProbeArguments(["argv": Self.list("true"), "stdout_matches": .scalar("(")]))
        }
    }
}

@Suite struct EnvProbeTests {
    func observe(_ arguments: [String: ArgumentValue]) async throws -> Observation {
        try await EnvProbe(ProbeArguments(arguments)).run(ProbeContext(environment: [:], workingDirectory: "/"))
    }

    @Test func eachRuleJudgesTheValue() async throws {
        #expect(
            try await observe(["value": .scalar("http://backend:8000"), "equals": .scalar("http://backend:8000")])
                .outcome == .pass)
        #expect(
            try await observe(["value": .scalar("http://localhost:8000"), "equals": .scalar("http://backend:8000")])
                .cause == "not-equal")
        #expect(
            try await observe(["value": .scalar("docker"), "one_of": .list([.scalar("docker"), .scalar("local")])])
                .outcome == .pass)
        #expect(
            try await observe(["value": .scalar("prod"), "one_of": .list([.scalar("docker")])]).cause == "not-one-of")
        #expect(try await observe(["value": .scalar("abc"), "matches": .scalar("^a")]).outcome == .pass)
        #expect(try await observe(["value": .scalar("xbc"), "matches": .scalar("^a")]).cause == "mismatch")
        #expect(try await observe(["value": .scalar(" "), "set": .scalar("true")]).cause == "unset")
    }

    @Test func secretValuesAreNeverShown() async throws {
        let observation = try await observe([
            "value": .scalar("sk-abcdef"), "name": .scalar("GEMINI_API_KEY"), "equals": .scalar("other"),
        ])
        #expect(!(observation.summary + observation.evidence.joined()).contains("sk-abcdef"))
        let url = try await observe([
            "value": .scalar("redis://:pw12345@redis:6379"), "name": .scalar("REDIS_URL"), "set": .scalar("true"),
        ])
        #expect(!(url.summary + url.evidence.joined()).contains("pw12345"))
    }
}
