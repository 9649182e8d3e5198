import ArgumentParser
import DiagnoseCore
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
        let invocation = try Invocation(runbooks: runbooks, all: all, source: source, options: options)
        let report = await invocation.runInterruptibly()
        switch format {
        case .json: print(report.json())
        case .text: print(TextRenderer(colour: useColour(), verbose: options.verbose).render(report), terminator: "")
        }
        throw ExitCode(report.exitStatus.rawValue)
    }
}

/// A prepared run: the selected runbooks with their inputs, and the engine that runs them.
struct Invocation {
    var prepared: [PreparedRunbook]
    var engine: Engine
    /// The env file's variables, for what a report says about the project.
    var envFile: [String: String]

    init(runbooks ids: [String], all: Bool, source: RunbookOptions, options: RunOptions) throws {
        let catalog: RunbookCatalog
        let paths = ids.filter { $0.contains("/") || $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
        if !paths.isEmpty && paths.count == ids.count {
            catalog = RunbookCatalog.load(paths)
        } else {
            catalog = try source.loadCatalog()
        }
        try exitOnFindings(catalog)

        let selected: [Runbook]
        if all || (!paths.isEmpty && paths.count == ids.count) {
            selected = catalog.runbooks
        } else {
            selected = try ids.map { id in
                guard let runbook = catalog.runbook(id) else {
                    let known = catalog.runbooks.map(\.id)
                    let hint =
                        known.min { $0.commonPrefixScore(id) > $1.commonPrefixScore(id) }.map { " Closest: '\($0)'." }
                        ?? ""
                    throw ValidationError(
                        "unknown runbook '\(id)'. Known runbooks: \(known.joined(separator: ", ")).\(hint)")
                }
                return runbook
            }
        }
        guard !selected.isEmpty else { throw ValidationError("no runbooks to run in '\(source.resolvedDirectory())'") }

        let overrides = options.overrides
        let inputNames = Set(selected.flatMap { $0.inputs.map(\.name) })
        for name in overrides.keys.sorted() where !inputNames.contains(name) {
            throw ValidationError(
                "--set \(name)=...: no selected runbook has an input '\(name)'; inputs: \(inputNames.sorted().joined(separator: ", "))"
            )
        }
        let environment = ProcessInfo.processInfo.environment
        let envFile = try options.envFileValues()
        let sources = InputSources(overrides: overrides, environment: environment, envFile: envFile)

        var redactor = Redactor()
        redactor.learn(from: environment)
        redactor.learn(from: envFile)
        for (name, value) in overrides where Redactor.isSecretName(name) { redactor.add(value) }
        var prepared: [PreparedRunbook] = []
        for runbook in selected {
            do {
                let inputs = try runbook.resolveInputs(sources)
                redactor.learn(from: inputs)
                prepared.append(PreparedRunbook(runbook, inputs: inputs))
            } catch {
                printError(error.description)
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        self.prepared = prepared
        self.envFile = envFile
        let context = ProbeContext(environment: environment, workingDirectory: FileManager.default.currentDirectoryPath)
        self.engine = Engine(context: context, deadline: options.deadlineDuration, redactor: redactor)
    }

    /// Runs the engine; SIGINT or SIGTERM stops it and yields what was found so far, marked interrupted.
    /// Either way, no process it started outlives the returned report.
    func runInterruptibly() async -> RunReport {
        let engine = self.engine
        let prepared = self.prepared
        let task = Task { await engine.run(prepared) }
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // The flag first, so that no probe reports the kill that follows as a finding; then every child
                // process group at once; then the engine, which reports without waiting for its probes.
                engine.context.cancellation.cancel()
                ChildProcesses.killAll()
                task.cancel()
            }
            source.resume()
            return source
        }
        let report = await task.value
        sources.forEach { $0.cancel() }
        // After a deadline or an interruption the engine did not wait for its probes: kill what they started
        // before exiting, and start nothing more.
        ChildProcesses.killAll()
        return report
    }
}

extension String {
    /// How many leading characters two strings share, for suggesting a runbook id.
    func commonPrefixScore(_ other: String) -> Int {
        zip(self, other).prefix { $0 == $1 }.count
    }
}
