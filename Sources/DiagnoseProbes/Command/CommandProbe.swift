import DiagnoseCompose
import DiagnosePlatform

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program (no shell unless `shell:` is given) and checks its exit status and output; with `in: SERVICE`,
/// inside that compose service's running container (`docker exec`).
///
/// Causes: `not-found` (error: cannot be started), `timeout`, `exit-status`, `output-mismatch` (fail), `cancelled` (error);
/// with `in:` also `container-not-running`, `not-created`, `docker-missing`, `engine-unreachable` (error).
public struct CommandProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The run was cancelled: deadline or interruption (error).
        case cancelled
        /// The program exited with another status, or was killed by a signal.
        case exitStatus = "exit-status"
        /// What was looked for is not there (for `command`: the program does not exist; error).
        case notFound = "not-found"
        /// The output does not match what was expected.
        case outputMismatch = "output-mismatch"
        /// It did not finish within the step timeout.
        case timeout
    }

    /// The program and its arguments; with `shell:`, `/bin/sh -c SCRIPT`.
    public var argv: [String]
    /// The exit status that passes.
    public var expectExit: Int32
    /// A pattern standard output must match.
    public var stdoutMatches: Pattern?
    /// A pattern standard error must match.
    public var stderrMatches: Pattern?
    /// The compose service whose container runs the program, if not the local machine.
    public var service: String?
    /// The service's project.
    public var selector: ComposeProject.Selector

    /// Builds the probe from its arguments: exactly one of `argv` and `shell`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        let argv = try arguments.strings("argv")
        let shell = try arguments.string("shell")
        switch (argv, shell) {
        case (let argv?, nil):
            guard let program = argv.first, !program.isEmpty else {
                throw ProbeArgumentError("argv", "must name a program: argv: [program, args...]")
            }
            self.argv = argv
        case (nil, let script?):
            self.argv = ["/bin/sh", "-c", script]
        case (.some, .some):
            throw ProbeArgumentError("", "give either 'argv' or 'shell', not both")
        case (nil, nil):
            throw ProbeArgumentError("", "give 'argv: [program, args...]' or 'shell: \"...\"'")
        }
        expectExit = Int32(try arguments.int("expect_exit", in: 0...255) ?? 0)
        stdoutMatches = try arguments.pattern("stdout_matches")
        stderrMatches = try arguments.pattern("stderr_matches")
        service = try arguments.string("in")
        selector = try ComposeProject.Selector(arguments)
        if service == nil, let extra = ComposeProject.argumentNames.sorted().first(where: arguments.has) {
            throw ProbeArgumentError(extra, "only applies with 'in: SERVICE'")
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        if let service { return await runInContainer(of: service, context) }
        let result = await ProcessRunner.run(
            argv, environment: context.environment, workingDirectory: context.workingDirectory,
            timeout: context.timeout, cancellation: context.cancellation)
        return Self.observe(
            result, argv: argv, timeout: context.timeout, expectExit: expectExit,
            stdoutMatches: stdoutMatches, stderrMatches: stderrMatches)
    }

    /// Runs the program in the service's container through the shared compose adapter.
    func runInContainer(of service: String, _ context: ProbeContext) async -> Observation {
        let project = context.compose.project(selector)
        let execution: ContainerExecution
        switch await context.compose.exec(
            argv, in: service, project: project.name, timeout: context.timeout, cancellation: context.cancellation)
        {
        case .failure(let error): return error.observation
        case .success(let ran): execution = ran
        }
        let result = execution.result
        // docker exec reports a program it cannot start with 126 or 127 and the runtime's message, which
        // docker 28's CLI prints on standard output.
        let message = [result.stderr, result.stdout].first { $0.contains("OCI runtime exec failed") }
        if let status = result.exitStatus, status == 126 || status == 127, let message {
            let shown = "$ " + execution.command.map(shellQuoted).joined(separator: " ")
            return .error(
                Cause.notFound.rawValue,
                "\(argv[0]) cannot be started in service '\(service)' (\(execution.container.name))",
                evidence: [shown, message.trimmingWhitespace().truncated(to: 1000)])
        }
        return Self.observe(
            result, argv: argv, shownAs: execution.command, timeout: context.timeout, expectExit: expectExit,
            stdoutMatches: stdoutMatches, stderrMatches: stderrMatches)
    }

    /// Judges a finished process against the expectations.
    /// `shownAs` is the command line shown in the evidence, when it differs from `argv` (as with `docker exec`).
    static func observe(
        _ result: ProcessResult, argv: [String], shownAs shown: [String]? = nil, timeout: Duration, expectExit: Int32,
        stdoutMatches: Pattern?, stderrMatches: Pattern?
    ) -> Observation {
        let command = "$ " + (shown ?? argv).map(shellQuoted).joined(separator: " ")
        var evidence = [command] + outputEvidence(result)
        switch result.ending {
        case .launchFailed(let code):
            let reason =
                code == EACCES
                ? "is not executable" : code == ENOENT ? "was not found" : "could not be started (errno \(code))"
            return .error(Cause.notFound.rawValue, "\(argv[0]) \(reason)", evidence: [command])
        case .timedOut:
            return .fail(
                Cause.timeout.rawValue,
                "\(argv[0]) did not finish within \(timeout.shortDescription); "
                    + (shown == nil
                        ? "its process group was killed"
                        : "diagnose stopped waiting (the engine does not stop an exec's process, which may run on)"),
                evidence: evidence)
        case .cancelled:
            return .error(Cause.cancelled.rawValue, "\(argv[0]) was stopped: the run was cancelled", evidence: evidence)
        case .signalled(let signal):
            evidence.append("killed by signal \(signal)")
            return .fail(Cause.exitStatus.rawValue, "\(argv[0]) was killed by signal \(signal)", evidence: evidence)
        case .exited(let status):
            evidence.append("exit status \(status)")
            guard status == expectExit else {
                return .fail(
                    Cause.exitStatus.rawValue, "\(argv[0]) exited with \(status), expected \(expectExit)",
                    evidence: evidence)
            }
            if let stdoutMatches, !stdoutMatches.matches(result.stdout) {
                return .fail(
                    Cause.outputMismatch.rawValue, "standard output does not match /\(stdoutMatches.source)/",
                    evidence: evidence)
            }
            if let stderrMatches, !stderrMatches.matches(result.stderr) {
                return .fail(
                    Cause.outputMismatch.rawValue, "standard error does not match /\(stderrMatches.source)/",
                    evidence: evidence)
            }
            let first = result.stdout.firstLine
            return .pass(
                first.isEmpty ? "\(argv[0]) exited with \(status)" : first.truncated(to: 120), evidence: evidence)
        }
    }

    /// The last lines of each stream, and how much was dropped.
    static func outputEvidence(_ result: ProcessResult, lines: Int = 20) -> [String] {
        var evidence: [String] = []
        for (name, text, total) in [
            ("stdout", result.stdout, result.stdoutBytes), ("stderr", result.stderr, result.stderrBytes),
        ] where total > 0 {
            let kept = text.split(separator: "\n", omittingEmptySubsequences: false)
            let tail = kept.suffix(lines).joined(separator: "\n").trimmingWhitespace()
            var line = "\(name): \(tail.truncated(to: 4000))"
            if total > result.captureLimit {
                line += "\n(\(total - result.captureLimit) more bytes of \(name) read and dropped)"
            }
            evidence.append(line)
        }
        return evidence
    }
}

extension ProbeKind {
    /// `command`: runs a program and checks its exit status and output.
    public static let command = ProbeKind(
        name: "command",
        optional: ComposeProject.argumentNames.union([
            "argv", "shell", "expect_exit", "stdout_matches", "stderr_matches", "in",
        ])
    ) { arguments throws(ProbeArgumentError) in try CommandProbe(arguments) }
}
