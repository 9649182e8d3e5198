/// The status of a runbook or a run, ordered from best to worst for exit codes (see `ExitStatus`).
public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every diagnosis is `ok`.
    case ok
    /// The worst diagnosis is a warning.
    case warning
    /// The worst diagnosis is critical.
    case critical
    /// A runbook could not conclude: an unmapped error, the deadline, or an interruption.
    case unknown

    /// The severities a runbook may give a diagnosis, from best to worst; `unknown` is only a run's.
    public static let declarable: [Status] = [.ok, .warning, .critical]

    /// The overall status of several: critical beats unknown, which beats warning, which beats ok.
    public static func worst(_ statuses: some Sequence<Status>) -> Status {
        let all = Set(statuses)
        for status in [Status.critical, .unknown, .warning] where all.contains(status) { return status }
        return .ok
    }
}
