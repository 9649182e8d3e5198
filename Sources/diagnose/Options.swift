import ArgumentParser
import DiagnosePlatform
import DiagnoseReport
import DiagnoseRunbook
import Foundation

/// Where the runbooks are.
struct RunbookOptions: ParsableArguments {
    @Option(
        name: .customLong("runbooks"),
        help: "The runbooks folder (default: $DIAGNOSE_RUNBOOKS, else ./runbooks, else the shipped runbooks).")
    var directory: String?

    /// The folder to read: the flag, the environment, ./runbooks, or the runbooks shipped with the binary.
    func resolvedDirectory() -> String {
        if let directory { return directory }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DIAGNOSE_RUNBOOKS"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        if FileManager.default.fileExists(atPath: "runbooks") { return "runbooks" }
        return Self.shippedDirectory() ?? "runbooks"
    }

    /// The runbooks next to the executable: `share/diagnose/runbooks` when installed, the package's when built.
    static func shippedDirectory() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<4 {
            for candidate in ["share/diagnose/runbooks", "runbooks"] {
                let path = folder.appendingPathComponent(candidate).path
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    /// Loads the folder, printing findings and exiting 65 when any runbook is invalid.
    func loadCatalog(progress: LoadProgress? = nil) throws -> RunbookCatalog {
        let directory = resolvedDirectory()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("no runbooks folder at '\(directory)'; pass --runbooks DIR or set DIAGNOSE_RUNBOOKS")
        }
        return RunbookCatalog.load([directory], progress: progress)
    }
}

/// Options of commands that run runbooks.
struct RunOptions: ParsableArguments {
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Overrides an input, e.g. --set redis_url=redis://localhost:6379/0.", valueName: "name=value"))
    var assignments: [String] = []

    @Option(name: .customLong("env-file"), help: "The env file read for ${VAR} (default: ./.env when it exists).")
    var envFile: String?

    @Option(help: "Stops everything still running after this long and reports what was found, e.g. 30s or 2m.")
    var deadline: String = "30s"

    @Flag(help: "Shows the evidence of passing steps too.")
    var verbose = false

    @Option(
        help: ArgumentHelp(
            "What runs the stack: compose, swarm (a stack from docker stack deploy), or auto (compose containers, else a stack of the project's name). Default: $DIAGNOSE_ORCHESTRATOR, else auto.",
            valueName: "auto|compose|swarm"))
    var orchestrator: String?

    /// The process environment, with `--orchestrator` as `DIAGNOSE_ORCHESTRATOR` (which the adapter and the
    /// runbooks' inputs read).
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let orchestrator { environment["DIAGNOSE_ORCHESTRATOR"] = orchestrator.lowercased() }
        return environment
    }

    func validate() throws {
        for assignment in assignments where !assignment.contains("=") || assignment.hasPrefix("=") {
            throw ValidationError("--set '\(assignment)' must be NAME=VALUE")
        }
        guard let parsed = Duration.parse(deadline), parsed > .zero else {
            throw ValidationError("--deadline '\(deadline)' is not a duration; write e.g. 30s, 2m or 500ms")
        }
        _ = parsed
        if let orchestrator, !["auto", "compose", "swarm"].contains(orchestrator.lowercased()) {
            throw ValidationError("--orchestrator '\(orchestrator)' must be auto, compose or swarm")
        }
    }

    var deadlineDuration: Duration { Duration.parse(deadline) ?? .seconds(30) }

    var overrides: [String: String] {
        assignments.reduce(into: [:]) { result, assignment in
            let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
    }
}

extension RunFormat: ExpressibleByArgument {}

/// Writes output to standard output, or with `--output PATH` to that file, replaced atomically (exit 73 when it
/// cannot be created).
func emit(_ text: String, to output: String?) throws {
    guard let output else { return print(text, terminator: "") }
    do {
        try AtomicFile.write(text, to: output, overwrite: true)
    } catch {
        printError("error: \(error); choose another --output.")
        throw ExitCode(ExitStatus.cannotCreate.rawValue)
    }
}

/// Prints to standard error.
func printError(_ text: String) {
    writeUnbuffered(text.hasSuffix("\n") ? text : text + "\n", to: STDERR_FILENO)
}

/// Writes all of `text` to `fd` at once, unbuffered; a failed write is dropped. After a hang-up the terminal answers
/// EIO and a closed pipe EPIPE (SIGPIPE is ignored from the first signal on), and neither may stop diagnose before
/// it exits with its status (FileHandle.write would trap on them).
func writeUnbuffered(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

/// Whether standard output is a terminal that takes colour.
func useColour() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    if environment["NO_COLOR"] != nil { return false }
    if environment["TERM"] == "dumb" { return false }
    return isatty(STDOUT_FILENO) == 1
}

/// Prints runbook findings and exits 65 when there are any.
func exitOnFindings(_ catalog: RunbookCatalog) throws {
    guard !catalog.isValid else { return }
    for problem in catalog.unreadable { printError(problem.description) }
    for finding in catalog.findings { printError(finding.description) }
    printError(
        "\(catalog.findings.count + catalog.unreadable.count) problem(s) in the runbooks; run `diagnose validate` after fixing them."
    )
    throw ExitCode(ExitStatus.invalidData.rawValue)
}
