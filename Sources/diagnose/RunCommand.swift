import ArgumentParser
import DiagnoseEngine
import DiagnoseReport
import DiagnoseRunbook
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs runbooks (the default command): diagnose RUNBOOK... or diagnose --all.",
        discussion: """
            Examples:
              $ diagnose backend-wont-start
              $ diagnose --all --format json
              $ diagnose worker-not-processing --deadline 10s
            """
    )

    @Argument(help: "Runbook ids, or paths to runbook files.")
    var runbooks: [String] = []

    @Flag(help: "Runs every runbook in the runbooks folder.")
    var all = false

    @OptionGroup var source: RunbookOptions
    @OptionGroup var options: RunOptions

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if all && !runbooks.isEmpty { throw ValidationError("give runbook ids or --all, not both") }
        if !all && runbooks.isEmpty {
            throw ValidationError("name the runbooks to run, or pass --all; `diagnose list` shows them")
        }
    }

    func run() async throws {
        let plan = try RunPlan(runbooks: runbooks, all: all, source: source, options: options)
        let report = await plan.runInterruptibly()
        switch format {
        case .json: print(report.json())
        case .text: print(TextRenderer(colour: useColour(), verbose: options.verbose).render(report), terminator: "")
        }
        throw ExitCode(report.exitStatus.rawValue)
    }
}

extension RunPlan {
    /// Plans the run the command line asks for; an invalid runbook exits 65, a usage problem 64.
    init(runbooks ids: [String], all: Bool, source: RunbookOptions, options: RunOptions) throws {
        let catalog = RunbookCatalog.areFiles(ids) ? RunbookCatalog.load(ids) : try source.loadCatalog()
        try exitOnFindings(catalog)
        do {
            try self.init(
                catalog: catalog, references: ids, all: all, folder: source.resolvedDirectory(),
                overrides: options.overrides, envFile: options.envFile,
                environment: ProcessInfo.processInfo.environment,
                workingDirectory: FileManager.default.currentDirectoryPath, deadline: options.deadlineDuration)
        } catch .input(let error) {
            printError(error.description)
            throw ExitCode(ExitStatus.usage.rawValue)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
