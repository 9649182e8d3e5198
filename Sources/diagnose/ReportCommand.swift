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
            temporary file in the same folder and renamed into place, so a reader never sees half a report; an \
            interrupted run (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) still writes its report, marked interrupted.

            Examples:
              $ diagnose report
              $ diagnose report --output handoff.md
              $ diagnose report --since handoff.json --output handoff-2.md
              $ diagnose report backend-wont-start worker-not-processing --output - | less
              $ diagnose report --output - --format json > report.json

            Exit status: that of the run (0 ok, 1 warning, 2 critical, 3 unknown or interrupted) once the report \
            is written; 64 when the output exists without --force, or --since is not a report; 73 when the \
            output folder is missing or not writable.
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
        let plan = try RunPlan(
            runbooks: runbooks, all: all || runbooks.isEmpty, source: source, options: options)
        let run = await plan.runInterruptibly()

        let environment = ProcessInfo.processInfo.environment
        let directory = FileManager.default.currentDirectoryPath
        let metadata = HandoffReport.Metadata(
            generatedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)),
            host: Self.hostName(),
            user: CurrentUser.name(environment: environment),
            projectDirectory: directory,
            composeProject: HandoffReport.Metadata.composeProject(
                inputs: run.runbooks.map(\.inputs), environment: environment, envFile: plan.envFile,
                directory: directory),
            command: (["diagnose"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " "))
        let report = plan.handoff(run, metadata: metadata, previous: previous, previousPath: since ?? "")
        let markdown = MarkdownRenderer().render(report, runbooks: plan.reportedRunbooks)

        if let (path, jsonPath) = destination.map({ ($0, Self.jsonPath(for: $0)) }) {
            write(markdown: markdown, json: report.json(), to: path, jsonPath: jsonPath)
            printError("Wrote \(path) and \(jsonPath): \(report.run.status.rawValue.uppercased()).")
        } else {
            print(format == .json ? report.json() : markdown, terminator: "")
        }
        throw ExitCode(report.run.exitStatus.rawValue)
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

    /// The Markdown path, checked before the run so that a long run does not end in a refusal.
    func checkedDestination() throws -> String {
        let path = output ?? Self.defaultPath(Date())
        for candidate in [path, Self.jsonPath(for: path)]
        where !force && FileManager.default.fileExists(atPath: candidate) {
            printError("error: '\(candidate)' already exists; pass --force to replace it, or choose another --output.")
            throw ExitCode(ExitStatus.usage.rawValue)
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

    /// Writes both files whole; if the second cannot be written, the first is removed so no half pair is left.
    func write(markdown: String, json: String, to path: String, jsonPath: String) {
        func fail(_ error: AtomicFileError) -> Never {
            switch error {
            case .exists:
                printError("error: \(error); pass --force to replace it, or choose another --output.")
                Self.exit(withError: ExitCode(ExitStatus.usage.rawValue))
            case .noFolder, .notWritable, .writeFailed:
                printError("error: \(error); choose another folder with --output.")
                Self.exit(withError: ExitCode(ExitStatus.cannotCreate.rawValue))
            }
        }
        do {
            try AtomicFile.write(markdown, to: path, overwrite: force)
        } catch {
            fail(error)
        }
        do {
            try AtomicFile.write(json, to: jsonPath, overwrite: force)
        } catch {
            if !force { unlink(path) }
            fail(error)
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
