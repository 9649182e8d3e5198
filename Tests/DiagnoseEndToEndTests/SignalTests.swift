import DiagnosePlatform
import DiagnoseReport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP and SIGQUIT act as SIGTERM (InterruptionTests), also when the terminal or pipe diagnose prints to is gone;
/// and a child dies with diagnose even when diagnose is killed with SIGKILL (PR_SET_PDEATHSIG).
@Suite(.serialized) struct SignalTests {
    /// A runbook whose one step runs a shell that ignores SIGTERM, SIGHUP and SIGQUIT, writes its pid to `child`
    /// and sleeps in a loop (a `trap` in a shell that then execs would be gone after the exec).
    static let stubborn = """
        id: stubborn
        title: Stubborn
        start: hang
        steps:
          hang:
            title: A program that ignores SIGTERM
            probe: command
            with:
              shell: "trap '' TERM HUP QUIT; echo $$ > child; while :; do sleep 1; done"
            timeout: 60s
            on: { pass: done, fail: broken }
        diagnoses:
          done: { severity: ok, title: Done }
          broken: { severity: critical, title: Broken }
        """

    /// Starts diagnose on the stubborn runbook and returns it with the child's pid once the child runs.
    func start(_ arguments: [String], in folder: URL) async throws -> (Process, Int32) {
        try plant(Self.stubborn, at: "runbooks/stubborn.yml", in: folder)
        let process = try launch(arguments + ["--deadline", "2m"], in: folder)
        let file = folder.appendingPathComponent("child").path
        let clock = ContinuousClock()
        let started = clock.now
        while clock.now < started + hangGuard {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n"), let pid = Int32(text.dropLast()) { return (process, pid) }
            try await Task.sleep(for: .milliseconds(25))
        }
        kill(process.processIdentifier, SIGKILL)
        _ = await finish(process)
        throw TestSetupError("the stubborn program did not start")
    }

    /// Kills the child's process group if it is left (a failed test must not leave it running).
    func cleanUp(_ child: Int32) {
        kill(-child, SIGKILL)
        kill(child, SIGKILL)
    }

    @Test(arguments: [SIGHUP, SIGQUIT])
    func hangUpAndQuitKillTheChildAndPrintWhatWasFound(signal: Int32) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (process, child) = try await start(["stubborn", "--format", "json"], in: folder)
        defer { cleanUp(child) }
        kill(process.processIdentifier, signal)
        let run = await finish(process)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(await allGone([child]), "the child \(child) outlived diagnose")
        let report = try RunReport.decode(Data(run.stdout.utf8))
        #expect(report.stopped == "interrupted")
        #expect(report.runbooks.map(\.diagnosis.id) == ["interrupted"])
    }

    /// A dropped SSH session: SIGHUP while standard output and error are pipes nobody reads any more. diagnose
    /// neither dies of SIGPIPE nor traps on EPIPE: it kills the child, writes the report file and exits 3.
    @Test func aHangUpWithItsOutputGoneStillWritesTheReportAndExits3() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        for command in [["report", "--output", "handoff.md"], ["stubborn"]] {
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (process, child) = try await start(command, in: folder)
            defer { cleanUp(child) }
            for pipe in [process.standardOutput, process.standardError] {
                try (pipe as? Pipe)?.fileHandleForReading.close()
            }
            kill(process.processIdentifier, SIGHUP)
            let status = await offload { [process = UncheckedProcess(process)] in
                process.process.waitUntilExit()
                return (process.process.terminationReason, process.process.terminationStatus)
            }
            #expect(status.0 == .exit && status.1 == 3, "\(command[0]): \(status)")
            #expect(await allGone([child]), "the child \(child) outlived diagnose")
            if command[0] == "report" {
                let report = try HandoffReport.decode(Data(contentsOf: folder.appendingPathComponent("handoff.json")))
                #expect(report.run.stopped == "interrupted")
                let markdown = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
                #expect(markdown.contains("**Interrupted.**"))
            }
        }
    }

    /// SIGKILL cannot be caught: the child's PR_SET_PDEATHSIG(SIGKILL), set before its exec, kills it.
    @Test func aChildDiesWithDiagnoseKilledOutright() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (process, child) = try await start(["stubborn"], in: folder)
        defer { cleanUp(child) }
        kill(process.processIdentifier, SIGKILL)
        let run = await finish(process)
        #expect(run.status == SIGKILL)
        #expect(await allGone([child]), "the child \(child) outlived diagnose")
    }

    /// The death signal reaches the child only; what the child started in its process group (here a shell's
    /// background `sleep`) is killed by the group guard when diagnose is gone, SIGKILL included.
    @Test func aGrandchildDiesWithDiagnoseKilledOutright() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let parent = Self.stubborn.replacingOccurrences(
            of: "echo $$ > child;", with: "sleep 300 & echo $! > grandchild; echo $$ > child;")
        try plant(parent, at: "runbooks/stubborn.yml", in: folder)
        let process = try launch(["stubborn", "--deadline", "2m"], in: folder)
        var pids: [Int32] = []
        let clock = ContinuousClock()
        let started = clock.now
        while pids.count < 2, clock.now < started + hangGuard {
            pids = ["grandchild", "child"].compactMap { name in
                let text = (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
                return text.hasSuffix("\n") ? Int32(text.dropLast()) : nil
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        defer { pids.forEach(cleanUp) }
        try #require(pids.count == 2, "the program did not start its background sleep")
        #expect(pids.allSatisfy(isAlive))
        kill(process.processIdentifier, SIGKILL)
        let run = await finish(process)
        #expect(run.status == SIGKILL)
        #expect(await allGone(pids), "\(pids) (grandchild, child) outlived diagnose")
    }
}

/// Waits, at most `hangGuard`, until none of the processes is alive, and says whether that happened.
func allGone(_ pids: [Int32]) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + hangGuard
    while pids.contains(where: isAlive) {
        guard clock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}
