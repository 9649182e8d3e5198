import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation

/// A prepared run: the runbooks chosen, their inputs resolved, the secrets to hide, and the engine that runs them.
public struct RunPlan: Sendable {
    /// The selected runbooks with their inputs.
    public var prepared: [PreparedRunbook]
    /// The engine that runs them; it redacts the report with the plan's redactor where the report is made.
    public var engine: Engine
    /// The env file's variables, for what a report says about the project.
    public var envFile: [String: String]

    /// Chooses runbooks from `catalog` (every one with `all` or when every reference is a file), checks the `--set`
    /// names, reads the env file (`envFile`, else `./.env` when it exists) and resolves each runbook's inputs.
    public init(
        catalog: RunbookCatalog, references ids: [String], all: Bool, folder: String, overrides: [String: String],
        envFile envFilePath: String?, environment: [String: String], workingDirectory: String, deadline: Duration
    ) throws(RunPlanError) {
        let selected: [Runbook]
        if all || RunbookCatalog.areFiles(ids) {
            selected = catalog.runbooks
        } else {
            selected = try ids.map { id throws(RunPlanError) in
                guard let runbook = catalog.runbook(id) else {
                    throw .unknownRunbook(id, known: catalog.runbooks.map(\.id))
                }
                return runbook
            }
        }
        guard !selected.isEmpty else { throw .nothingToRun(folder: folder) }

        let inputNames = Set(selected.flatMap { $0.inputs.map(\.name) })
        for name in overrides.keys.sorted() where !inputNames.contains(name) {
            throw .unknownOverride(name, inputs: inputNames.sorted())
        }
        let envFile = try Self.envFileValues(envFilePath)
        let sources = InputSources(overrides: overrides, environment: environment, envFile: envFile)

        var redactor = Redactor.standard
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
                throw .input(error)
            }
        }
        self.prepared = prepared
        self.envFile = envFile
        let context = ProbeContext(environment: environment, workingDirectory: workingDirectory)
        self.engine = Engine(context: context, deadline: deadline, redactor: redactor)
    }

    /// The handoff report of a run, every string hidden that the plan knows to be secret (the run report is
    /// already redacted by the engine; the metadata and the previous report's titles are redacted here).
    public func handoff(
        _ run: RunReport, metadata: HandoffReport.Metadata, previous: HandoffReport?, previousPath: String
    ) -> HandoffReport {
        HandoffReport(run: run, metadata: metadata, previous: previous, previousPath: previousPath)
            .redacted(by: engine.redactor)
    }

    /// The selected runbooks as a report may draw them (the flowcharts): their titles with secrets hidden.
    public var reportedRunbooks: [Runbook] { prepared.map { $0.runbook.redacted(by: engine.redactor) } }

    /// The env file's variables; a missing explicit file or a malformed line is an error.
    static func envFileValues(_ explicit: String?) throws(RunPlanError) -> [String: String] {
        let path = explicit ?? ".env"
        guard FileManager.default.fileExists(atPath: path) else {
            if explicit != nil { throw .envFileMissing(path) }
            return [:]
        }
        guard let text = TextFile.read(path) else { throw .envFileUnreadable(path) }
        do {
            return try EnvFile(parsing: text).values
        } catch {
            throw .envFileMalformed(path, line: error.line, message: error.message)
        }
    }

    /// Runs the engine; SIGINT, SIGTERM, SIGHUP or SIGQUIT stops it and yields what was found so far, marked
    /// interrupted. Either way, no process it started outlives the returned report.
    public func runInterruptibly() async -> RunReport {
        let trap = SignalTrap()
        let report = await round(engine, trap: trap)
        trap.end()
        // After a deadline or an interruption the engine did not wait for its probes: kill what they started
        // before exiting, and start nothing more.
        ChildProcesses.killAll()
        return report
    }

    /// One run of `engine`, which a signal caught by `trap` stops.
    func round(_ engine: Engine, trap: SignalTrap) async -> RunReport {
        let prepared = self.prepared
        let task = Task { await engine.run(prepared) }
        trap.onSignal {
            // The flag first, so that no probe reports the kill that follows as a finding; then every child
            // process group at once; then the engine, which reports without waiting for its probes.
            engine.context.cancellation.cancel()
            ChildProcesses.killAll()
            task.cancel()
        }
        return await task.value
    }
}

/// Why a run cannot be planned; the CLI reports each as a usage error.
public enum RunPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A runbook id names no runbook of the catalog.
    case unknownRunbook(String, known: [String])
    /// The selection is empty.
    case nothingToRun(folder: String)
    /// A `--set` name is no input of the selected runbooks.
    case unknownOverride(String, inputs: [String])
    /// The env file given explicitly does not exist.
    case envFileMissing(String)
    /// The env file is not a regular UTF-8 file under 4 MiB.
    case envFileUnreadable(String)
    /// A line of the env file does not parse.
    case envFileMalformed(String, line: Int, message: String)
    /// An input cannot be resolved.
    case input(InputError)

    public var description: String {
        switch self {
        case .unknownRunbook(let id, let known):
            "unknown runbook '\(id)'. Known runbooks: \(known.joined(separator: ", "))."
                + (known.min { $0.commonPrefixScore(id) > $1.commonPrefixScore(id) }.map { " Closest: '\($0)'." }
                    ?? "")
        case .nothingToRun(let folder):
            "no runbooks to run in '\(folder)'"
        case .unknownOverride(let name, let inputs):
            "--set \(name)=...: no selected runbook has an input '\(name)'; inputs: \(inputs.joined(separator: ", "))"
        case .envFileMissing(let path):
            "--env-file '\(path)' does not exist"
        case .envFileUnreadable(let path):
            "the env file '\(path)' cannot be read: it must be a regular UTF-8 file under 4 MiB"
        case .envFileMalformed(let path, let line, let message):
            "\(path):\(line): \(message)"
        case .input(let error):
            error.description
        }
    }
}

extension String {
    /// How many leading characters two strings share, for suggesting a runbook id.
    func commonPrefixScore(_ other: String) -> Int {
        zip(self, other).prefix { $0 == $1 }.count
    }
}

extension Runbook {
    /// The runbook with the texts a report draws from it (titles, explanations, fixes) passed through the redactor.
    func redacted(by redactor: Redactor) -> Runbook {
        var copy = self
        copy.title = redactor.redact(title)
        copy.steps = steps.map { step in
            var step = step
            step.title = redactor.redact(step.title)
            return step
        }
        copy.diagnoses = diagnoses.map { diagnosis in
            var diagnosis = diagnosis
            diagnosis.title = redactor.redact(diagnosis.title)
            diagnosis.explain = redactor.redact(diagnosis.explain)
            diagnosis.fix = diagnosis.fix.map { $0.map(redactor.redact) }
            return diagnosis
        }
        return copy
    }
}
