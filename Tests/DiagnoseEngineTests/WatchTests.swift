import DiagnoseEngine
import DiagnosePlatform
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Synchronization
import Testing

/// `RunPlan.watch`: rounds of a command runbook whose outcome flips when a file appears.
@Suite struct WatchTests {
    /// The rounds handed to `onRound`, in order.
    final class Rounds: Sendable {
        let list = Mutex<[WatchRound]>([])
        func append(_ round: WatchRound) { list.withLock { $0.append(round) } }
        var all: [WatchRound] { list.withLock { $0 } }
    }

    func plan(_ shell: String, in folder: URL, deadline: Duration = .seconds(30)) throws -> RunPlan {
        let runbooks = folder.appendingPathComponent("runbooks")
        try FileManager.default.createDirectory(at: runbooks, withIntermediateDirectories: true)
        try """
        title: Flag file
        start: check
        steps:
          check:
            title: The flag exists
            probe: command
            with: { shell: "\(shell)" }
            on: { pass: healed, fail: broken, error: broken }
        diagnoses:
          healed: { severity: ok, title: All good }
          broken: { severity: critical, title: The flag is missing }
        """.write(to: runbooks.appendingPathComponent("flag.yml"), atomically: true, encoding: .utf8)
        return try RunPlan(
            catalog: RunbookCatalog.load([runbooks.path]), references: [], all: true, folder: runbooks.path,
            overrides: [:], envFile: nil, environment: [:], workingDirectory: folder.path, deadline: deadline)
    }

    @Test func theWatchReportsTheChangeAndEndsOnceEveryRunbookIsOK() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let flag = folder.appendingPathComponent("flag").path
        let plan = try plan("test -e \(flag)", in: folder)
        let rounds = Rounds()
        // The limit only ends a watch that went wrong (the fix never seen), instead of watching forever.
        let outcome = await plan.watch(every: .milliseconds(10), untilOK: true, limit: 20) { round in
            rounds.append(round)
            // The fix lands after the second round, as an on-call's would while the watch runs.
            if round.number == 2 { _ = FileManager.default.createFile(atPath: flag, contents: nil) }
        }
        let seen = rounds.all
        #expect(seen.map(\.run.status) == [.critical, .critical, .ok])
        #expect(seen.map(\.hasNews) == [true, false, true])
        #expect(seen[2].previousStatus == .critical)
        #expect(seen[2].changes?.resolved.map(\.key) == ["broken"])
        #expect(seen[1].changes?.stillOpen.map(\.key) == ["broken"])
        #expect(outcome == WatchOutcome(ending: .healed, rounds: 3, last: seen[2].run))
        #expect(outcome.exitStatus == .ok)
    }

    @Test func withoutUntilTheWatchGoesOnAndPrintsNothingNewForUnchangedRounds() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try plan("false", in: folder)
        let rounds = Rounds()
        let outcome = await plan.watch(every: .milliseconds(10), untilOK: false, limit: 3) { rounds.append($0) }
        #expect(outcome.ending == .roundLimit && outcome.rounds == 3 && outcome.exitStatus == .critical)
        #expect(rounds.all.map(\.hasNews) == [true, false, false])
    }

    @Test func aRoundStoppedByItsDeadlineDoesNotStopTheNext() async throws {
        // The first round sleeps past the deadline; the next ones run with a fresh cancellation and conclude.
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let seen = folder.appendingPathComponent("seen").path
        let pid = folder.appendingPathComponent("pid").path
        let plan = try plan(
            "if [ -e \(seen) ]; then exit 0; fi; touch \(seen); echo $$ > \(pid); sleep 30", in: folder,
            deadline: .seconds(1))
        let rounds = Rounds()
        let outcome = await plan.watch(every: .milliseconds(10), untilOK: true, limit: 20) { rounds.append($0) }
        let all = rounds.all
        #expect(all.first?.run.stopped == "deadline")
        #expect(all.first?.run.status == .unknown)
        #expect(outcome.ending == .healed)
        #expect(outcome.last.runbooks.map(\.diagnosis.id) == ["healed"])
        // The abandoned round's shell was killed through the round's own cancellation flag.
        let shell = try #require(Int32(String(contentsOfFile: pid, encoding: .utf8).trimmingWhitespace()))
        #expect(await allGone([shell]))
    }
}
