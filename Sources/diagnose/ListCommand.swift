import ArgumentParser
import DiagnoseReport
import DiagnoseRunbook

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Lists the runbooks: ids, titles and descriptions.",
        discussion: """
            Lists the valid runbooks even when others of the folder are broken; those are then reported on \
            standard error, located, and the exit status is 65.

            Example:
              $ diagnose list
            """
    )

    @OptionGroup var source: RunbookOptions

    func run() throws {
        let catalog = try source.loadCatalog()
        let width = catalog.runbooks.map(\.id.count).max() ?? 0
        for runbook in catalog.runbooks {
            print(
                "\(runbook.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(OutputSanitizer.visible(runbook.title))"
            )
            if !runbook.description.isEmpty {
                print("\(String(repeating: " ", count: width))  \(OutputSanitizer.visible(runbook.description))")
            }
        }
        try exitOnFindings(catalog)
    }
}
