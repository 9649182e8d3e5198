import ArgumentParser
import DiagnoseEngine
import DiagnosePlatform
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
              $ diagnose --all --format junit > diagnose-junit.xml
              $ diagnose --all --format prometheus --output /var/lib/node_exporter/textfile/diagnose.prom
              $ diagnose --all --format nagios
              $ diagnose --all --watch
              $ diagnose worker-not-processing --watch 2s --until ok

            --watch [INTERVAL] runs the runbooks again INTERVAL (default 5s) after each round ends, each round \
            bounded by --deadline. On a terminal it redraws one compact screen; elsewhere (or with NO_COLOR) it \
            prints one line for each round that changed something: new, resolved and still open findings, as \
            `diagnose report --since` compares them. --until ok ends it with exit 0 once every runbook is OK; \
            Ctrl-C, SIGTERM, SIGHUP or SIGQUIT ends it with the last whole round's exit status.

            With --format nagios the exit status is the plugin's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), and a \
            problem found before the run (an invalid runbook, an unknown runbook or input) prints a \
            DIAGNOSE UNKNOWN line and exits 3 instead of 64 or 65.
            """
    )

    @Argument(help: "Runbook ids, or paths to runbook files.")
    var runbooks: [String] = []

    @Flag(help: "Runs every runbook in the runbooks folder.")
    var all = false

    @OptionGroup var source: RunbookOptions
    @OptionGroup var options: RunOptions

    @Option(help: "text, json, junit, prometheus or nagios.")
    var format: RunFormat = .text

    @Option(
        help: ArgumentHelp(
            "Writes the output to this file instead of standard output, replacing it atomically.", valueName: "path"))
    var output: String?

    @Option(
        help: ArgumentHelp(
            "Runs again this long after each round (5s when left out) and shows what changed.", valueName: "interval"))
    var watch: String?

    @Option(help: ArgumentHelp("With --watch, ends once every runbook is OK (exit 0).", valueName: "ok"))
    var until: Until?

    enum Until: String, ExpressibleByArgument, CaseIterable { case ok }

    /// The interval `--watch` fills in when it is given without one.
    static let defaultWatchInterval = "5s"

    func validate() throws {
        if all && !runbooks.isEmpty { throw ValidationError("give runbook ids or --all, not both") }
        if let watch {
            guard let interval = Duration.parse(watch), interval > .zero else {
                throw ValidationError("--watch '\(watch)' is not an interval; write e.g. 5s, 1s or 500ms")
            }
            if format != .text { throw ValidationError("--watch shows text; leave out --format \(format.rawValue)") }
            if output != nil { throw ValidationError("--watch prints to standard output; leave out --output") }
        } else if until != nil {
            throw ValidationError("--until ends a watch; add --watch [INTERVAL]")
        }
        if !all && runbooks.isEmpty {
            throw ValidationError("name the runbooks to run, or pass --all; `diagnose list` shows them")
        }
    }

    func run() async throws {
        let planned: PlannedRun
        do {
            planned = try await RunPlan.planned(runbooks: runbooks, all: all, source: source, options: options)
        } catch  where format == .nagios {
            // A monitoring check must answer in the plugin's terms: anything but 0-3 is "out of bounds".
            print("DIAGNOSE UNKNOWN - \(Self.nagiosReason(error))")
            throw ExitCode(ExitStatus.unknown.rawValue)
        }
        let plan: RunPlan
        switch planned {
        case .ready(let ready): plan = ready
        case .loadingTooSlow(let report):
            try emit(
                report.rendered(as: format, colour: output == nil && useColour(), verbose: options.verbose), to: output)
            throw ExitCode(report.exitStatus.rawValue)
        }
        if let interval = watch.flatMap(Duration.parse) { try await watch(plan, every: interval) }
        let report = await plan.runInterruptibly()
        let rendered = report.rendered(
            as: format, colour: output == nil && useColour(), verbose: options.verbose)
        try emit(rendered, to: output)
        throw ExitCode(report.exitStatus.rawValue)
    }

    /// Watches until every runbook is OK (with --until ok) or a signal; exits with the last whole round's status.
    func watch(_ plan: RunPlan, every interval: Duration) async throws -> Never {
        // Redrawing needs a terminal that takes escape sequences: the same test as colour (a TTY, no NO_COLOR).
        let redraw = useColour()
        let renderer = WatchRenderer(interval: interval, colour: redraw)
        let outcome = await plan.watch(every: interval, untilOK: until == .ok) { round in
            // Written unbuffered, so that a round shows when it ends even through a pipe (`| tee watch.log`).
            if redraw {
                writeUnbuffered(renderer.screen(round), to: STDOUT_FILENO)
            } else if let line = renderer.changes(round) {
                writeUnbuffered(line, to: STDOUT_FILENO)
            }
        }
        let rounds = "\(outcome.rounds) round\(outcome.rounds == 1 ? "" : "s")"
        let status = "\(outcome.last.status.rawValue.uppercased()) (exit \(outcome.exitStatus.rawValue))"
        switch outcome.ending {
        case .healed: printError("Every runbook is OK after \(rounds): \(status).")
        case .interrupted, .roundLimit: printError("Watch stopped after \(rounds); the last whole round: \(status).")
        }
        throw ExitCode(outcome.exitStatus.rawValue)
    }

    /// What stopped the run before it started, in one line (the details went to standard error).
    static func nagiosReason(_ error: any Error) -> String {
        switch error {
        case let exit as ExitCode where exit.rawValue == ExitStatus.invalidData.rawValue:
            "invalid runbooks; run `diagnose validate`"
        case let exit as ExitCode:
            "cannot run (exit \(exit.rawValue)); see standard error"
        default:
            String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
                .replacingOccurrences(of: "|", with: "/")
        }
    }
}

/// A run planned within its deadline, or the report of a deadline that passed while the runbooks were loading.
enum PlannedRun {
    /// Loaded in time; the plan's engine has what loading left of the deadline.
    case ready(RunPlan)
    /// Loading outlasted the deadline: the inconclusive report to print (exit 3).
    case loadingTooSlow(RunReport)
}

extension RunPlan {
    /// Plans the run within `--deadline`, counted from now: loading the runbooks runs on its own thread, and when it
    /// outlasts the deadline the run ends with an inconclusive report saying where loading was, without waiting for
    /// it (the abandoned loader ends with the process). An invalid runbook exits 65, a usage problem 64.
    static func planned(
        runbooks ids: [String], all: Bool, source: RunbookOptions, options: RunOptions
    ) async throws -> PlannedRun {
        let startedAt = Date()
        let clock = ContinuousClock()
        let began = clock.now
        let progress = LoadProgress()
        let loading = await LoadingDeadline.run(within: options.deadlineDuration) {
            try RunPlan(runbooks: ids, all: all, source: source, options: options, progress: progress)
        }
        switch loading {
        case .finished(let result):
            var plan = try result.get()
            plan.engine.alreadySpent = began.duration(to: clock.now)
            return .ready(plan)
        case .expired:
            return .loadingTooSlow(
                LoadingDeadline.report(
                    references: ids, all: all, folder: source.resolvedDirectory(), deadline: options.deadlineDuration,
                    progress: progress.current, startedAt: startedAt,
                    elapsedMs: began.duration(to: clock.now).milliseconds))
        }
    }

    /// Plans the run the command line asks for; an invalid runbook exits 65, a usage problem 64.
    init(
        runbooks ids: [String], all: Bool, source: RunbookOptions, options: RunOptions, progress: LoadProgress? = nil
    ) throws {
        let catalog =
            RunbookCatalog.areFiles(ids)
            ? RunbookCatalog.load(ids, progress: progress) : try source.loadCatalog(progress: progress)
        try exitOnFindings(catalog)
        progress?.enter("resolving the inputs")
        do {
            try self.init(
                catalog: catalog, references: ids, all: all, folder: source.resolvedDirectory(),
                overrides: options.overrides, envFile: options.envFile, environment: options.environment,
                workingDirectory: FileManager.default.currentDirectoryPath, deadline: options.deadlineDuration)
        } catch .input(let error) {
            printError(error.description)
            throw ExitCode(ExitStatus.usage.rawValue)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
