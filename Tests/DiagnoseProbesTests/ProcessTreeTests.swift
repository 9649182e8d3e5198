import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

/// Every probe that starts local processes returns on time and leaves no process of the tree it started, even
/// when the program ignores SIGTERM and its grandchildren hold the output pipe open.
/// (`command` itself: CommandProbeTests.aTimeoutKillsTheWholeProcessGroupIncludingGrandchildrenThatIgnoreSIGTERM.
/// `command` with `in: SERVICE` runs `docker exec` through the same ProcessRunner and needs docker: not covered here.)
@Suite(.serialized) struct ProcessTreeTests {
    /// A shell script that ignores SIGTERM, starts two grandchildren holding stdout and stderr, writes every pid
    /// to `pids` and sleeps; programs are named by absolute path so that it runs with any PATH.
    static func stubbornScript(pids: String) -> String {
        """
        trap '' TERM
        (trap '' TERM; exec /bin/sleep 60) & echo $! >> '\(pids)'
        (/bin/sleep 60 >&2) & echo $! >> '\(pids)'
        echo $$ >> '\(pids)'
        echo started
        /bin/sleep 60
        """
    }

    static func recordedPIDs(_ path: String) throws -> [Int32] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
    }

    /// Waits briefly for the killed processes to be gone (SIGKILL is delivered asynchronously).
    static func expectAllDead(_ pids: [Int32]) async throws {
        #expect(await allGone(pids), "still alive: \(pids.filter(isAlive))")
    }

    @Test func aLogsCommandThatIgnoresSIGTERMIsKilledWithItsGrandchildren() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pids = folder.appendingPathComponent("pids").path
        let probe = try LogsProbe(
            ProbeArguments([
                "command": .list([.scalar("/bin/sh"), .scalar("-c"), .scalar(Self.stubbornScript(pids: pids))]),
                "pattern": .scalar("ERROR"),
            ]))
        let context = ProbeContext(
            timeout: .milliseconds(500), environment: ProcessInfo.processInfo.environment,
            workingDirectory: folder.path)
        let clock = ContinuousClock()
        let began = clock.now
        let observation = await probe.run(context)
        let took = began.duration(to: clock.now)
        #expect(observation.outcome == .error)
        #expect(observation.cause == "timeout")
        #expect(took < hangGuard, "took \(took)")
        let recorded = try Self.recordedPIDs(pids)
        #expect(recorded.count == 3)
        try await Self.expectAllDead(recorded)
    }

    /// A fake standalone `docker-compose`, alone on PATH, that ignores SIGTERM and forks a grandchild: no docker needed.
    @Test func aComposeConfigWhoseCLIHangsIsKilledWithItsGrandchildren() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let pids = folder.appendingPathComponent("pids").path
        let fake = bin.appendingPathComponent("docker-compose").path
        try ("#!/bin/sh\n" + Self.stubbornScript(pids: pids) + "\n").write(
            toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        try "services: {}\n".write(
            to: folder.appendingPathComponent("docker-compose.yml"), atomically: true, encoding: .utf8)

        let environment = ["PATH": bin.path, "HOME": folder.path]
        let context = ProbeContext(timeout: .milliseconds(500), environment: environment, workingDirectory: folder.path)
        let probe = try ComposeConfigProbe(ProbeArguments([:]))
        let clock = ContinuousClock()
        let began = clock.now
        let observation = await probe.run(context)
        let took = began.duration(to: clock.now)
        #expect(try context.compose.composeCLI.get().prefix == [fake])
        #expect(observation.outcome == .error)
        #expect(observation.cause == "docker-error", "\(observation.summary)")
        #expect(took < hangGuard, "took \(took)")
        let recorded = try Self.recordedPIDs(pids)
        #expect(recorded.count == 3)
        try await Self.expectAllDead(recorded)
    }
}
