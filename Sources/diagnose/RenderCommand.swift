import ArgumentParser
import DiagnoseReport
import Foundation

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Renders a saved run (diagnose.run/v1) or report (diagnose.report/v1) in another format.",
        discussion: """
            Turns the JSON of an incident into any view later, without running anything. A run defaults to text, \
            a report to its Markdown (without the flowcharts, which need the runbooks as they were).

            Examples:
              $ diagnose --all --format json > run.json
              $ diagnose render run.json --format junit > diagnose-junit.xml
              $ diagnose render run.json --format prometheus --output diagnose.prom
              $ diagnose render handoff.json > handoff.md
              $ diagnose render - --format nagios < run.json

            Exit status: the saved run's (0 ok, 1 warning, 2 critical, 3 unknown) once rendered; 65 when the \
            file is not such JSON (the message says where: FILE:LINE:COLUMN); 66 when it cannot be read; 73 when \
            --output cannot be created.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, markdown, junit, prometheus, nagios
    }

    @Argument(help: ArgumentHelp("The saved JSON; - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: "text, json, markdown, junit, prometheus or nagios (default: text for a run, markdown for a report).")
    var format: Format?

    @Option(
        help: ArgumentHelp(
            "Writes the output to this file instead of standard output, replacing it atomically.", valueName: "path"))
    var output: String?

    @Flag(help: "Shows the evidence of passing steps too (text).")
    var verbose = false

    func run() throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                let reason = FileManager.default.fileExists(atPath: file) ? "it is not a readable file" : "no such file"
                printError("error: cannot read '\(file)': \(reason)")
                throw ExitCode(ExitStatus.noInput.rawValue)
            }
            data = contents
        }
        let saved: SavedRun
        do {
            saved = try SavedRun.decode(data, file: file == "-" ? "<stdin>" : file)
        } catch {
            printError(error.description)
            throw ExitCode(ExitStatus.invalidData.rawValue)
        }
        let chosen = format ?? (saved.isReport ? .markdown : .text)
        let rendered: String
        switch chosen {
        case .markdown: rendered = MarkdownRenderer().render(saved.report, runbooks: [])
        case .json: rendered = saved.isReport ? saved.report.json() : saved.run.rendered(as: .json)
        case .text, .junit, .prometheus, .nagios:
            let runFormat = RunFormat(rawValue: chosen.rawValue) ?? .text
            rendered = saved.run.rendered(as: runFormat, colour: output == nil && useColour(), verbose: verbose)
        }
        try emit(rendered, to: output)
        throw ExitCode(saved.run.exitStatus.rawValue)
    }
}

extension SavedRun {
    /// Whether a handoff report was saved, rather than a run.
    var isReport: Bool {
        if case .report = self { true } else { false }
    }
}
