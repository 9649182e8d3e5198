import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM during `diagnose --all`, through the built binary: the children die, what was found so far is
/// printed marked interrupted, and the exit status is 3, promptly. (`diagnose report`:
/// ReportCommandTests.anInterruptedReportIsStillWrittenAndMarked.)
@Suite(.serialized) struct InterruptionTests {
    /// A runbook whose second step runs a program that ignores SIGTERM and leaves two grandchildren, each writing
    /// its pid to `pids`; the id makes each runbook's command its own (identical probes would run once).
    static func stubborn(_ id: String) -> String {
        """
        id: \(id)
        title: Stubborn \(id)
        start: first
        steps:
          first:
            title: A quick first step
            probe: command
            with: { argv: ["true"] }
            on: { pass: hang, fail: broken }
          hang:
            title: A program that ignores SIGTERM
            probe: command
            with:
              shell: ": \(id); trap '' TERM; (trap '' TERM; sleep 60) & echo $! >> pids; (sleep 60 >&2) & echo $! >> pids; echo $$ >> pids; sleep 60"
            timeout: 60s
            on: { pass: done, fail: broken }
        diagnoses:
          done: { severity: ok, title: Done }
          broken: { severity: critical, title: Broken }
        """
    }

    static let quick = """
        id: quick
        title: Quick
        start: check
        steps:
          check:
            probe: command
            with: { argv: ["true"] }
            on: { pass: quick-ok, fail: quick-broken }
        diagnoses:
          quick-ok: { severity: ok, title: Quick is fine }
          quick-broken: { severity: critical, title: Quick is broken }
        """

    struct Interrupted {
        var outcome: Run
        var took: Duration
        var pids: [Int32]
    }

    /// Starts `diagnose --all` on two stubborn runbooks and a quick one, waits until all six processes run, sends
    /// the signal and times the exit from kill() on.
    func interrupt(with signal: Int32, format: String) async throws -> Interrupted {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try plant(Self.stubborn("slow-a"), at: "runbooks/slow-a.yml", in: folder)
        try plant(Self.stubborn("slow-b"), at: "runbooks/slow-b.yml", in: folder)
        try plant(Self.quick, at: "runbooks/quick.yml", in: folder)
        let pidFile = folder.appendingPathComponent("pids").path
        let process = try launch(["--all", "--format", format, "--deadline", "2m"], in: folder)
        var pids: [Int32] = []
        let clock = ContinuousClock()
        let started = clock.now
        while clock.now < started + .seconds(30) {
            pids = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { Int32($0) }
            if pids.count == 6 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        guard pids.count == 6 else {
            kill(process.processIdentifier, SIGKILL)
            _ = await finish(process)
            throw TestSetupError("the stubborn programs did not all start: \(pids)")
        }
        let began = clock.now
        kill(process.processIdentifier, signal)
        let outcome = await finish(process)
        return Interrupted(outcome: outcome, took: began.duration(to: clock.now), pids: pids)
    }

    static func median(_ durations: [Duration]) -> Duration { durations.sorted()[durations.count / 2] }

    @Test(arguments: [SIGINT, SIGTERM], ["text", "json"])
    func aSignalKillsTheChildrenAndPrintsWhatWasFound(signal: Int32, format: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        var times: [Duration] = []
        for _ in 0..<3 {
            let run = try await interrupt(with: signal, format: format)
            times.append(run.took)
            #expect(run.outcome.status == 3, "\(run.outcome.stderr)")
            for pid in run.pids { #expect(!isAlive(pid), "process \(pid) outlived diagnose") }
            if format == "json" {
                let report = try RunReport.decode(Data(run.outcome.stdout.utf8))
                #expect(report.stopped == "interrupted")
                let diagnoses = Dictionary(uniqueKeysWithValues: report.runbooks.map { ($0.id, $0.diagnosis.id) })
                #expect(diagnoses == ["quick": "quick-ok", "slow-a": "interrupted", "slow-b": "interrupted"])
                let slow = try #require(report.runbooks.first { $0.id == "slow-a" })
                #expect(slow.path.map(\.step) == ["first"], "the killed step is not reported as a finding")
                #expect(slow.diagnosis.title == "Interrupted while 'A program that ignores SIGTERM' was running")
            } else {
                let text = run.outcome.stdout
                #expect(text.contains("Quick is fine"))
                #expect(text.contains("Interrupted while 'A program that ignores SIGTERM' was running"))
                #expect(text.contains("(stopped: interrupted)"), "\(text)")
                #expect(!text.contains("Broken"))
            }
        }
        // A measurement, not an assertion (the benchmarks judge speed): the kill-to-exit times, for docs/reliability.md.
        let median = Self.median(times)
        print("interrupt-to-exit \(signal == SIGINT ? "SIGINT" : "SIGTERM") \(format): \(times), median \(median)")
    }
}

/// Whether a process exists and is not a zombie waiting to be reaped.
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
    return state != "Z" && state != "X"
}

/// Errors of the test helpers.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
