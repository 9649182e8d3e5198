import DiagnoseCompose
import DiagnosePlatform

extension ComposeProject.Selector {
    /// Reads the selector from a probe's arguments; `fileArgument` names the compose file's argument.
    public init(_ arguments: ProbeArguments, fileArgument: String = "file") throws(ProbeArgumentError) {
        // An input left empty in a template means "not given".
        func given(_ name: String) throws(ProbeArgumentError) -> String? {
            guard let text = try arguments.string(name)?.trimmingWhitespace(), !text.isEmpty else { return nil }
            return text
        }
        self.init(
            name: try given("project"), file: try given(fileArgument), directory: try given("project_dir"),
            envFile: try given("env_file"))
    }
}
