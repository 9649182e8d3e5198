import DiagnoseCompose
import DiagnosePlatform

extension ComposeError {
    /// The observation a probe reports when the adapter cannot answer.
    public var observation: Observation { .error(cause, description) }
}
