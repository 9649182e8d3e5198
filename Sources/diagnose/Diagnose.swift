import ArgumentParser
import DiagnoseEngine
import DiagnosePlatform

@main
struct Diagnose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Runs troubleshooting runbooks against a Docker Compose stack and prints a diagnosis.",
        discussion: """
            Each runbook is a decision tree of probes (Redis PING, HTTP health, compose config, logs, \
            container state...). diagnose walks it, branches on each result and prints the diagnosis, its \
            evidence and the next commands to run.

            Examples:
              $ diagnose backend-wont-start
              $ diagnose --all
              $ diagnose --all --format json > run.json
              $ diagnose frontend-connection-refused --set backend_url=http://backend:8000
              $ diagnose validate runbooks/
              $ diagnose show backend-wont-start --format mermaid
              $ diagnose --all --watch 2s --until ok
              $ diagnose report --output handoff.md
              $ diagnose render run.json --format junit

            Exit status (Nagios conventions):
              0  every runbook ended in an ok diagnosis
              1  the worst diagnosis is a warning
              2  the worst diagnosis is critical
              3  inconclusive: a probe could not tell, the --deadline was hit, or the run was
                 interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT), and nothing critical was found
              64 usage error (bad option, unknown runbook, unset variable)
              65 invalid runbook (render: the saved JSON is invalid)
              66 render: the saved JSON cannot be read
              73 report: the output folder is missing or not writable
            """,
        version: diagnoseVersion,
        subcommands: [
            RunCommand.self, ReportCommand.self, RenderCommand.self, ListCommand.self, ValidateCommand.self,
            ShowCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    /// Parses `--watch` with its interval left out as `--watch 5s`: ArgumentParser's options take a value, and an
    /// interval is told apart from what follows (a runbook id, another flag) by parsing it as a duration.
    static func main() async {
        await main(Self.fillingWatchInterval(Array(CommandLine.arguments.dropFirst())))
    }

    static func fillingWatchInterval(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            result.append(argument)
            guard argument == "--watch" else { continue }
            let next = arguments.indices.contains(index + 1) ? arguments[index + 1] : nil
            if next.flatMap(Duration.parse) == nil { result.append(RunCommand.defaultWatchInterval) }
        }
        return result
    }
}
