import ArgumentParser
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseReport
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Runs runbooks and writes the on-call handoff report: Markdown plus JSON for the next --since.",
        discussion: """
            Writes PATH (Markdown: status, summary, ranked findings with evidence, path and fix, what was ruled \
            out and what could not be checked) and PATH with .json (diagnose.report/v1). Each file is written to a \
            temporary file in the same folder and renamed into place, so a reader never sees half a report, and the \
            two are written both or neither; only regular files are replaced (never a device, FIFO, socket or \
            folder). An interrupted run (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) still writes its report, marked \
            interrupted.

            Examples:
              $ diagnose report
              $ diagnose report --output handoff.md
              $ diagnose report --since handoff.json --output handoff-2.md
              $ diagnose report backend-wont-start worker-not-processing --output - | less
              $ diagnose report --output - --format json > report.json

            Exit status: that of the run (0 ok, 1 warning, 2 critical, 3 unknown or interrupted) once the report \
            is written; 64 when the output exists without --force, or --since is not a report; 73 when the \
            output folder is missing or not writable, or the output is not a regular file.
            """
    )

    @Argument(help: "Runbook ids, or paths to runbook files (default: all of them).")
    var runbooks: [String] = []

    @Flag(help: "Runs every runbook in the runbooks folder (the default when no runbook is named).")
    var all = false

    @OptionGroup var source: RunbookOptions
    @OptionGroup var options: RunOptions

    @Option(
        help: ArgumentHelp(
            "Where to write the Markdown; the JSON goes beside it with .json; - writes --format to standard output.",
            valueName: "path"))
    var output: String?

    @Option(help: "markdown or json: what --output - writes to standard output.")
    var format: ReportFormat?

    @Flag(help: "Replaces existing output files.")
    var force = false

    @Option(
        help: ArgumentHelp(
            "A previous report's .json, to say what is new, resolved and still open.", valueName: "previous.json"))
    var since: String?

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable { case markdown, json }

    func validate() throws {
        if all && !runbooks.isEmpty { throw ValidationError("give runbook ids or --all, not both") }
        if format != nil && output != "-" {
            throw ValidationError("--format chooses what goes to standard output; use it with --output -")
        }
    }

    func run() async throws {
        let previous = try readPrevious()
        let destination = output == "-" ? nil : try checkedDestination()
        let plan: RunPlan?
        let run: RunReport
        switch try await RunPlan.planned(
            runbooks: runbooks, all: all || runbooks.isEmpty, source: source, options: options)
        {
        case .ready(let ready):
            plan = ready
            run = await ready.runInterruptibly()
        case .loadingTooSlow(let report):
            // Nothing ran: the report says so, and the files are written as for any run stopped by its deadline.
            plan = nil
            run = report
        }

        let environment = options.environment
        let directory = FileManager.default.currentDirectoryPath
        let metadata = HandoffReport.Metadata(
            generatedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)),
            host: Self.hostName(),
            user: CurrentUser.name(environment: environment),
            projectDirectory: directory,
            composeProject: HandoffReport.Metadata.composeProject(
                inputs: run.runbooks.map(\.inputs), environment: environment, envFile: plan?.envFile ?? [:],
                directory: directory),
            command: (["diagnose"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " "))
        let report =
            plan?.handoff(run, metadata: metadata, previous: previous, previousPath: since ?? "")
            ?? HandoffReport(run: run, metadata: metadata, previous: previous, previousPath: since ?? "")
            .redacted(by: Self.redactorWithoutPlan(environment: environment, overrides: options.overrides))
        let markdown = MarkdownRenderer().render(report, runbooks: plan?.reportedRunbooks ?? [])

        if let (path, jsonPath) = destination.map({ ($0, Self.jsonPath(for: $0)) }) {
            write(markdown: markdown, json: report.json(), to: path, jsonPath: jsonPath)
            printError("Wrote \(path) and \(jsonPath): \(report.run.status.rawValue.uppercased()).")
        } else {
            print(format == .json ? report.json() : markdown, terminator: "")
        }
        throw ExitCode(report.run.exitStatus.rawValue)
    }

    /// What hides secrets when loading outlasted the deadline and there is no plan to ask: the standard rules, the
    /// environment's secret-looking values and the secret `--set` values (the command line is in the metadata).
    static func redactorWithoutPlan(environment: [String: String], overrides: [String: String]) -> Redactor {
        var redactor = Redactor.standard
        redactor.learn(from: environment)
        for (name, value) in overrides where Redactor.isSecretName(name) { redactor.add(value) }
        return redactor
    }

    /// The previous report, or a usage error naming the file and what it is instead.
    func readPrevious() throws -> HandoffReport? {
        guard let since else { return nil }
        guard let data = FileManager.default.contents(atPath: since) else {
            throw ValidationError(
                "--since '\(since)' cannot be read; pass the .json file that `diagnose report` writes")
        }
        do {
            return try HandoffReport.decode(data)
        } catch {
            throw ValidationError("--since '\(since)' \(error)")
        }
    }

    /// The Markdown path, checked before the run so that a long run does not end in a refusal: both targets must be
    /// absent, or regular files with --force (never a device, a FIFO, a socket or a folder), in a writable folder.
    func checkedDestination() throws -> String {
        let path = output ?? Self.defaultPath(Date())
        for candidate in [path, Self.jsonPath(for: path)] {
            do {
                try AtomicFile.check(candidate, overwrite: force)
            } catch {
                Self.fail(error)
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if access(folder, W_OK) != 0 {
            printError(
                "error: cannot write the report into '\(folder)': \(String(cString: strerror(errno))); "
                    + "choose another folder with --output.")
            throw ExitCode(ExitStatus.cannotCreate.rawValue)
        }
        return path
    }

    /// Prints why the report cannot be written and what to do, and exits: 64 when it exists without --force, else 73.
    static func fail(_ error: AtomicFileError) -> Never {
        switch error {
        case .exists:
            printError("error: \(error); pass --force to replace it, or choose another --output.")
            exit(withError: ExitCode(ExitStatus.usage.rawValue))
        case .notRegularFile:
            printError("error: \(error); choose another --output (--output - writes to standard output).")
            exit(withError: ExitCode(ExitStatus.cannotCreate.rawValue))
        case .noFolder, .notWritable, .writeFailed:
            printError("error: \(error); choose another folder with --output.")
            exit(withError: ExitCode(ExitStatus.cannotCreate.rawValue))
        }
    }

    /// Writes both files whole, or neither (`AtomicFile.write(_:overwrite:)` says what that promises).
    func write(markdown: String, json: String, to path: String, jsonPath: String) {
        do {
            try AtomicFile.write(
                [(path: path, contents: markdown), (path: jsonPath, contents: json)], overwrite: force)
        } catch {
            Self.fail(error)
        }
    }

    /// `diagnose-report-20261128T140312Z.md`.
    static func defaultPath(_ date: Date) -> String {
        "diagnose-report-\(date.formattedUTC("yyyyMMdd'T'HHmmss'Z'")).md"
    }

    /// `x.md` → `x.json`; any other name gets `.json` appended.
    static func jsonPath(for path: String) -> String {
        path.hasSuffix(".md") ? String(path.dropLast(3)) + ".json" : path + ".json"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
