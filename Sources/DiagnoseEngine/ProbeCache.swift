import DiagnosePlatform
import DiagnoseProbes

/// Runs each distinct probe once per invocation; every runbook asking for it gets the same observation, and is
/// told whether it was shared with an earlier asker.
typealias ProbeCache = SingleFlight<String, Observation>
