import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Synchronization

/// A runbook with its inputs resolved, ready to run.
public struct PreparedRunbook: Sendable {
    /// The runbook.
    public var runbook: Runbook
    /// Its inputs' values.
    public var inputs: [String: String]

    /// Pairs a runbook with its inputs.
    public init(_ runbook: Runbook, inputs: [String: String]) {
        self.runbook = runbook
        self.inputs = inputs
    }
}

/// Walks runbooks: steps of one runbook in order, runbooks side by side, identical probes run once.
public struct Engine: Sendable {
    /// The kinds steps may name.
    public var registry: ProbeRegistry
    /// The context every probe starts from; each step sets its own timeout.
    public var context: ProbeContext
    /// When the whole run stops, reporting what it found.
    public var deadline: Duration
    /// Hides secrets in everything the run reports.
    public var redactor: Redactor
    /// The part of the deadline already used before the run began (loading the runbooks); the run gets the rest.
    public var alreadySpent: Duration = .zero
    /// Extra time a probe gets past its timeout before the engine stops waiting for it.
    public var grace: Duration = .milliseconds(500)

    /// Creates an engine.
    public init(
        registry: ProbeRegistry = .standard, context: ProbeContext, deadline: Duration = .seconds(30),
        redactor: Redactor = Redactor.standard
    ) {
        self.registry = registry
        self.context = context
        self.deadline = deadline
        self.redactor = redactor
    }

    enum Ending: Sendable { case complete, deadline, interrupted }

    /// Runs the runbooks and reports each one's diagnosis and path, in id order, secrets redacted.
    /// Cancelling the calling task stops the run and reports it as interrupted; set `context.cancellation` before
    /// cancelling so that no probe's result arriving meanwhile is taken for a finding.
    public func run(_ runbooks: [PreparedRunbook]) async -> RunReport {
        let startedAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let clock = ContinuousClock()
        let began = clock.now
        let cache = ProbeCache()
        let board = Board(ids: runbooks.map(\.runbook.id))
        let ending = OneShot<Ending>()

        var walkers: [Task<Void, Never>] = []
        for prepared in runbooks {
            walkers.append(
                Task {
                    guard let result = await walk(prepared, cache: cache, board: board) else { return }
                    if board.finish(result) { ending.deliver(.complete) }
                })
        }
        if runbooks.isEmpty { ending.deliver(.complete) }
        let timer = Task {
            try? await Task.sleep(for: max(.zero, deadline - alreadySpent))
            if !Task.isCancelled { ending.deliver(.deadline) }
        }
        let how = await withTaskCancellationHandler {
            await ending.value()
        } onCancel: {
            ending.deliver(.interrupted)
        }
        timer.cancel()
        if how != .complete {
            // Probes watch the flag and kill what they started; the engine does not wait for them.
            context.cancellation.cancel()
            walkers.forEach { $0.cancel() }
        }

        let elapsed = began.duration(to: clock.now).milliseconds
        let results = runbooks.map { prepared in
            board.result(prepared.runbook.id)
                ?? unfinished(prepared, path: board.path(prepared.runbook.id), how: how, elapsed: elapsed)
        }
        let stopped: String? =
            switch how {
            case .complete: nil
            case .deadline: "deadline"
            case .interrupted: "interrupted"
            }
        return RunReport(
            startedAt: startedAt, durationMs: elapsed, stopped: stopped, runbooks: results.sorted { $0.id < $1.id }
        )
        .redacted(by: redactor)
    }

    func unfinished(_ prepared: PreparedRunbook, path: [StepRecord], how: Ending, elapsed: Int) -> RunbookResult {
        let runbook = prepared.runbook
        let waitingOn = runbook.steps.first {
            $0.id
                == (path.last.flatMap { record in
                    runbook.step(record.step)?.target(for: record.outcome, cause: record.cause)
                } ?? runbook.start)
        }
        let during = waitingOn.map { " while '\($0.title)' was running" } ?? ""
        let conclusion =
            how == .interrupted
            ? Diagnosis(
                id: Diagnosis.interruptedID, title: "Interrupted\(during)", severity: .unknown,
                explain:
                    "The run was interrupted before this runbook reached a diagnosis; the steps above are what it found so far."
            )
            : Diagnosis(
                id: Diagnosis.incompleteID, title: "Deadline of \(deadline.shortDescription) reached\(during)",
                severity: .unknown,
                explain:
                    "The run hit its --deadline before this runbook reached a diagnosis; the steps above are what it found so far. Rerun with a longer --deadline or check why the step is slow."
            )
        return RunbookResult(
            id: runbook.id, title: runbook.title, diagnosis: conclusion, path: path, inputs: prepared.inputs,
            durationMs: elapsed)
    }

    /// Walks one runbook to its ending; nil when the run was stopped while a probe ran (it is then unfinished).
    func walk(_ prepared: PreparedRunbook, cache: ProbeCache, board: Board) async -> RunbookResult? {
        let runbook = prepared.runbook
        let clock = ContinuousClock()
        let began = clock.now
        var path: [StepRecord] = []
        var current = runbook.start
        func finish(_ conclusion: Diagnosis) -> RunbookResult {
            RunbookResult(
                id: runbook.id, title: Template.render(runbook.title, prepared.inputs), diagnosis: conclusion,
                path: path,
                inputs: prepared.inputs, durationMs: began.duration(to: clock.now).milliseconds)
        }
        // A validated runbook has no cycles, so it takes at most one pass over its steps.
        for _ in 0...runbook.steps.count {
            guard let step = runbook.step(current) else { break }
            let stepBegan = clock.now
            let (observation, shared) = await observe(step, inputs: prepared.inputs, cache: cache)
            // Stopped meanwhile (deadline, or a signal that also killed the probe's processes): what the probe saw
            // is the stop itself, not a finding, and must not lead to a diagnosis.
            if context.cancellation.isCancelled { return nil }
            path.append(
                StepRecord(
                    step: step, observation: observation, durationMs: stepBegan.duration(to: clock.now).milliseconds,
                    shared: shared))
            board.progress(runbook.id, path)
            guard let target = step.target(for: observation.outcome, cause: observation.cause) else {
                return finish(
                    Diagnosis(
                        id: Diagnosis.inconclusiveID,
                        title: "Inconclusive: step '\(step.title)' could not tell (\(observation.cause ?? "error"))",
                        severity: .unknown,
                        explain:
                            "Step '\(step.id)' ended in error and the runbook does not say where to go then: \(observation.summary)",
                        fix: []))
            }
            if let diagnosis = runbook.diagnosis(target) {
                // On a Swarm stack the runbooks' compose commands are printed as the docker commands that do the
                // same there (the state read is shared; a diagnosis with no such command asks nothing).
                let composeWords = ["docker compose", "STACK_"]
                let stack =
                    diagnosis.fix.contains { fix in composeWords.contains { fix.command.contains($0) } }
                    ? await context.compose.stackName(cancellation: context.cancellation) : nil
                return finish(
                    Diagnosis(
                        id: diagnosis.id, title: Template.render(diagnosis.title, prepared.inputs),
                        severity: diagnosis.severity,
                        explain: Template.render(diagnosis.explain, prepared.inputs),
                        fix: diagnosis.fix.map {
                            $0.map { command in
                                let rendered = Template.render(command, prepared.inputs, quoting: .shell)
                                return stack.map { StackCommands.translate(rendered, stack: $0) } ?? rendered
                            }
                        },
                        follows: diagnosis.follows))
            }
            current = target
        }
        return finish(
            Diagnosis(
                id: Diagnosis.inconclusiveID,
                title: "Inconclusive: the runbook does not lead to a diagnosis from '\(current)'",
                severity: .unknown, explain: "Validate the runbook with `diagnose validate`."))
    }

    func observe(_ step: Step, inputs: [String: String], cache: ProbeCache) async -> (Observation, Bool) {
        guard let kind = registry[step.probe] else {
            return (.error("unknown-probe", "unknown probe kind '\(step.probe)'"), false)
        }
        let arguments = Dictionary(
            uniqueKeysWithValues: step.arguments.map { name, value in
                let quoting = Template.quoting(probe: step.probe, argument: name)
                return (name, value.mapScalars { Template.render($0, inputs, quoting: quoting) })
            })
        let probe: any Probe
        do {
            probe = try kind.make(ProbeArguments(arguments))
        } catch {
            return (.error("bad-argument", "the step's arguments cannot be used: \(error)"), false)
        }
        let key = "\(kind.name) \(step.timeout.milliseconds)ms " + ArgumentValue.map(arguments).canonical
        var stepContext = self.context
        stepContext.timeout = step.timeout
        let context = stepContext
        let grace = self.grace
        return await cache.value(for: key) {
            await Self.runWithBackstop(probe, context: context, grace: grace)
        }
    }

    /// Runs a probe; if it overruns its timeout by more than `grace`, stops waiting and reports that.
    static func runWithBackstop(_ probe: any Probe, context: ProbeContext, grace: Duration) async -> Observation {
        let first = OneShot<Observation>()
        let work = Task { first.deliver(await probe.run(context)) }
        let timer = Task {
            try? await Task.sleep(for: context.timeout + grace)
            if !Task.isCancelled {
                first.deliver(
                    .error(
                        "overran",
                        "the probe did not finish within its timeout of \(context.timeout.shortDescription); it was abandoned"
                    ))
            }
        }
        let observation = await first.value()
        timer.cancel()
        work.cancel()
        return observation
    }
}

/// Each runbook's progress, readable when the run stops early.
final class Board: Sendable {
    private struct State {
        var paths: [String: [StepRecord]] = [:]
        var results: [String: RunbookResult] = [:]
        var remaining: Int
    }

    private let state: Mutex<State>

    init(ids: [String]) { state = Mutex(State(remaining: ids.count)) }

    func progress(_ id: String, _ path: [StepRecord]) { state.withLock { $0.paths[id] = path } }

    /// Records a finished runbook; returns whether it was the last.
    func finish(_ result: RunbookResult) -> Bool {
        state.withLock { state in
            state.results[result.id] = result
            state.remaining -= 1
            return state.remaining == 0
        }
    }

    func result(_ id: String) -> RunbookResult? { state.withLock { $0.results[id] } }

    func path(_ id: String) -> [StepRecord] { state.withLock { $0.paths[id] ?? [] } }
}
