import DiagnoseCompose
import DiagnosePlatform

/// How a probe ended.
public enum Outcome: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// The check holds.
    case pass
    /// The check does not hold: the probe saw the problem.
    case fail
    /// The probe could not tell.
    case error

    public static func < (lhs: Outcome, rhs: Outcome) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
