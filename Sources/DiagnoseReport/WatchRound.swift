import DiagnoseRunbook

/// One round of `diagnose --watch`: the run, and how it differs from the round before (the `--since` comparison).
public struct WatchRound: Sendable, Hashable {
    /// The round's number, from 1.
    public var number: Int
    /// What the round found.
    public var run: RunReport
    /// The previous round's status; nil on the first round.
    public var previousStatus: Status?
    /// The findings compared with the previous round's; nil on the first round.
    public var changes: HandoffReport.Changes?

    /// A round; `previous` is the round before, if any.
    public init(number: Int, run: RunReport, previous: RunReport?) {
        self.number = number
        self.run = run
        self.previousStatus = previous?.status
        self.changes = previous.map { HandoffReport.Changes(since: $0, to: run) }
    }

    /// Whether there is something to say: the first round, a new status, a finding new, resolved or no longer
    /// checked, or one whose severity moved.
    public var hasNews: Bool {
        guard let changes, let previousStatus else { return true }
        return previousStatus != run.status || !changes.new.isEmpty || !changes.resolved.isEmpty
            || !changes.notRechecked.isEmpty || changes.stillOpen.contains { $0.previousSeverity != $0.severity }
    }
}
