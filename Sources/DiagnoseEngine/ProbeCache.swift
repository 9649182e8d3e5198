import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook

/// Runs each distinct probe once per invocation; every runbook asking for it gets the same observation.
actor ProbeCache {
    private var entries: [String: Task<Observation, Never>] = [:]

    /// The observation for this key, running `probe` only if no runbook asked for it before.
    /// Returns whether the observation was shared with an earlier asker.
    func observation(for key: String, probe: @escaping @Sendable () async -> Observation) async -> (Observation, Bool) {
        if let running = entries[key] { return (await running.value, true) }
        let task = Task { await probe() }
        entries[key] = task
        return (await task.value, false)
    }
}
