import DiagnoseCompose
import DiagnosePlatform

/// Checks that the compose file resolves: the compose CLI's `config` exits 0 and warns of no unset variable.
///
/// Causes: `invalid`, `unset-variable` (fail); `docker-missing`, `compose-missing`, `docker-error`, `cancelled` (error).
/// Evidence is the CLI's standard error only: the resolved YAML holds environment values, secrets among them.
public struct ComposeConfigProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The compose file or its configuration is invalid (error).
        case invalid
        /// A variable the compose file or env file needs is not set.
        case unsetVariable = "unset-variable"
    }

    /// The project whose file is checked.
    public var selector: ComposeProject.Selector

    /// Builds the probe from `file` (default `docker-compose.yml`), `project_dir`, `env_file` and `project`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        selector = try ComposeProject.Selector(arguments)
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let project = context.compose.project(selector)
        let output: ComposeConfigOutput
        switch await context.compose.config(of: project, timeout: context.timeout, cancellation: context.cancellation) {
        case .failure(let error): return error.observation
        case .success(let found): output = found
        }
        let redactor = Redactor.standard
        let messages = output.result.stderr.split(whereSeparator: \.isNewline)
            .map { redactor.redact($0.trimmingWhitespace()) }
            .filter { !$0.isEmpty }
        let evidence = ["$ " + output.command.map(shellQuoted).joined(separator: " ")] + messages.prefix(20)
        guard output.result.exitStatus == 0 else {
            let why = messages.last ?? "exit status \(output.result.exitStatus.map(String.init) ?? "unknown")"
            return .fail(
                Cause.invalid.rawValue, "\(project.file) is not a valid compose file: \(why.truncated(to: 200))",
                evidence: evidence)
        }
        let unset = Self.unsetVariables(in: output.result.stderr)
        guard unset.isEmpty else {
            let names = unset.joined(separator: ", ")
            return .fail(
                Cause.unsetVariable.rawValue, "\(project.file) uses variables that are not set: \(names)",
                evidence: evidence + unset.map { "unset variable: \($0)" })
        }
        return .pass("\(project.file) is valid (project '\(project.name)')", evidence: evidence)
    }

    /// Variables named by v1's `The FOO variable is not set`, v2's `The "FOO" variable is not set`, and v2's logfmt
    /// line `level=warning msg="The \"FOO\" variable is not set. ..."` (the quotes escaped inside the field), in order,
    /// once each.
    static func unsetVariables(in messages: String) -> [String] {
        var names: [String] = []
        for groups in unsetPattern.allMatches(in: messages) where groups.count > 1 && !names.contains(groups[1]) {
            names.append(groups[1])
        }
        return names
    }

    private static let unsetPattern = try! Pattern(#"The \\?"?([A-Za-z_][A-Za-z0-9_]*)\\?"? variable is not set"#)
}

extension ProbeKind {
    /// `compose-config`: the compose file resolves without errors or unset variables.
    public static let composeConfig = ProbeKind(
        name: "compose-config", optional: ComposeProject.argumentNames
    ) { arguments throws(ProbeArgumentError) in try ComposeConfigProbe(arguments) }
}
