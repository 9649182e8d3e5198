import DiagnoseCompose
import DiagnosePlatform
import DiagnoseReport
import DiagnoseRunbook
import Foundation

/// How a watch ended.
public struct WatchOutcome: Sendable, Hashable {
    /// Why it ended.
    public enum Ending: Sendable, Hashable {
        /// `--until ok`: a round found every runbook OK.
        case healed
        /// SIGINT, SIGTERM, SIGHUP or SIGQUIT, during a round or between two.
        case interrupted
        /// The number of rounds asked for ran.
        case roundLimit
    }

    /// Why the watch ended.
    public var ending: Ending
    /// How many rounds ran to their end.
    public var rounds: Int
    /// The last round that ran to its end, else (a signal during the first round) the interrupted one.
    public var last: RunReport

    /// The process exit status: the last round's.
    public var exitStatus: ExitStatus { last.exitStatus }

    /// Creates an outcome.
    public init(ending: Ending, rounds: Int, last: RunReport) {
        self.ending = ending
        self.rounds = rounds
        self.last = last
    }
}

extension RunPlan {
    /// Runs the plan again and again, `interval` after each round ends, each round bounded by the plan's deadline,
    /// and hands every finished round to `onRound` with what changed since the round before. Ends when a round
    /// finds every runbook OK (with `untilOK`), after `limit` rounds when one is given, or at a signal (SignalTrap): a
    /// round the signal cut short is not reported, and the outcome is the last whole round's.
    public func watch(
        every interval: Duration, untilOK: Bool, limit: Int? = nil, onRound: @Sendable (WatchRound) -> Void
    ) async -> WatchOutcome {
        let trap = SignalTrap()
        defer { trap.end() }
        var previous: RunReport?
        var rounds = 0
        while true {
            // Each round its own cancellation flag: a deadline cancels the round's, and the next starts clean.
            var engine = self.engine
            engine.context.cancellation = CancellationFlag()
            // And its own compose adapter: the adapter keeps the state, config and logs it read for the rest of its
            // run, so a shared one would show round 1's containers forever.
            engine.context.compose = ComposeAdapter(
                environment: engine.context.environment, workingDirectory: engine.context.workingDirectory)
            // A round stopped by its deadline cancelled its own flag, on which each of its processes is killed.
            let report = await round(engine, trap: trap)
            if trap.hasFired {
                ChildProcesses.killAll()
                return WatchOutcome(ending: .interrupted, rounds: rounds, last: previous ?? report)
            }
            rounds += 1
            onRound(WatchRound(number: rounds, run: report, previous: previous))
            previous = report
            if untilOK && report.status == .ok { return WatchOutcome(ending: .healed, rounds: rounds, last: report) }
            if let limit, rounds >= limit { return WatchOutcome(ending: .roundLimit, rounds: rounds, last: report) }
            if await trap.sleep(for: interval) {
                ChildProcesses.killAll()
                return WatchOutcome(ending: .interrupted, rounds: rounds, last: report)
            }
        }
    }
}
