import ArgumentParser
import DiagnoseRunbook

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Checks runbooks without running anything.",
        discussion: """
            Reports every problem of every file as PATH:LINE:COLUMN: error: MESSAGE and exits 65, \
            or exits 0 when all are valid. Warnings (PATH:LINE:COLUMN: warning: MESSAGE) do not change the exit \
            status: a fix that looks like it changes the stack (up, restart, rm, down, kill, stop, start, \
            unpause, --force-recreate, config set) but is a plain string rather than \
            {run: COMMAND, changes: true}.

            Examples:
              $ diagnose validate
              $ diagnose validate runbooks/backend-wont-start.yml
            """
    )

    @Argument(help: "Runbook files or folders (default: the runbooks folder).")
    var paths: [String] = []

    @OptionGroup var source: RunbookOptions

    func run() throws {
        let catalog = RunbookCatalog.load(paths.isEmpty ? [source.resolvedDirectory()] : paths)
        try exitOnFindings(catalog)
        for warning in catalog.warnings { printError(warning.description) }
        let warnings = catalog.warnings.isEmpty ? "" : ", \(catalog.warnings.count) warning(s)"
        printError("\(catalog.runbooks.count) runbook\(catalog.runbooks.count == 1 ? "" : "s") valid\(warnings).")
    }
}
