import ArgumentParser
import DiagnoseReport
import DiagnoseRunbook

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Shows a runbook's decision tree as indented text or a Mermaid flowchart.",
        discussion: """
            Examples:
              $ diagnose show backend-wont-start
              $ diagnose show backend-wont-start --format mermaid
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, mermaid }

    @Argument(help: "A runbook id or a path to a runbook file.")
    var runbook: String

    @OptionGroup var source: RunbookOptions

    @Option(help: "text or mermaid.")
    var format: Format = .text

    func run() throws {
        let isPath = RunbookCatalog.isFile(runbook)
        let catalog = isPath ? RunbookCatalog.load([runbook]) : try source.loadCatalog()
        try exitOnFindings(catalog)
        guard let found = isPath ? catalog.runbooks.first : catalog.runbook(runbook) else {
            throw ValidationError(
                "unknown runbook '\(runbook)'. Known runbooks: \(catalog.runbooks.map(\.id).joined(separator: ", "))")
        }
        let renderer = TreeRenderer()
        print(format == .mermaid ? renderer.mermaid(found) : renderer.text(found), terminator: "")
    }
}
