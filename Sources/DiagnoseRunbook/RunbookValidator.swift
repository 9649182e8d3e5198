import DiagnosePlatform
import DiagnoseProbes

/// Checks a decoded runbook's meaning: probes and their arguments, references, reachability, cycles and templates.
public struct RunbookValidator: Sendable {
    /// The kinds steps may name.
    public var registry: ProbeRegistry

    /// Creates a validator for these kinds.
    public init(registry: ProbeRegistry = .standard) { self.registry = registry }

    /// Every finding about the runbook, in no particular order.
    public func check(_ runbook: Runbook) -> [Finding] {
        var findings: [Finding] = []
        let source = runbook.source
        func add(_ path: String, _ message: String) { findings.append(Finding(source.location(path), message)) }

        let stepIDs = Set(runbook.steps.map(\.id))
        let diagnosisIDs = Set(runbook.diagnoses.map(\.id))
        let inputNames = runbook.inputs.map(\.name)

        for id in stepIDs.intersection(diagnosisIDs).sorted() {
            add("diagnoses.\(id)", "'\(id)' is used twice: as a step and as a diagnosis; give them different ids")
        }
        for input in runbook.inputs {
            do {
                _ = try VariableExpansion.expand(input.template) { _ in "" }
            } catch {
                if case .syntax(let message) = error {
                    add("inputs.\(input.name)", "input '\(input.name)': \(message)")
                }
            }
        }

        checkTemplates(runbook, inputNames: inputNames, add: add)

        // A graph with holes (a missing 'on', an unmapped outcome, an unknown target) would make every later
        // reachability finding a consequence of the hole, so those are reported only for a complete graph.
        var graphIsComplete = true
        for step in runbook.steps {
            checkProbe(step, add: add)
            guard !step.next.isEmpty else {
                graphIsComplete = false
                continue
            }
            for outcome in [Outcome.pass, .fail] where step.next[outcome] == nil {
                graphIsComplete = false
                add(
                    "steps.\(step.id).on",
                    "step '\(step.id)' does not say where to go on \(outcome.rawValue); add '\(outcome.rawValue): STEP-OR-DIAGNOSIS' under 'on'"
                )
            }
            for edge in step.edges {
                let label = edge.outcome.rawValue + (edge.cause.map { " with cause \($0)" } ?? "")
                let path = "steps.\(step.id).on.\(edge.outcome.rawValue)" + (edge.cause.map { ".\($0)" } ?? "")
                if edge.target.isEmpty {
                    graphIsComplete = false
                } else if !stepIDs.contains(edge.target) && !diagnosisIDs.contains(edge.target) {
                    graphIsComplete = false
                    add(
                        path,
                        "step '\(step.id)' goes to '\(edge.target)' on \(label), which is neither a step nor a diagnosis\(didYouMean(edge.target, among: stepIDs.union(diagnosisIDs)))"
                    )
                }
            }
        }

        guard !runbook.start.isEmpty, !runbook.steps.isEmpty else { return findings }
        guard stepIDs.contains(runbook.start) else {
            let hint =
                diagnosisIDs.contains(runbook.start)
                ? "; 'start' must name a step, not a diagnosis" : didYouMean(runbook.start, among: stepIDs)
            add("start", "'start' names '\(runbook.start)', which is not a step\(hint)")
            return findings
        }
        let reachability = checkGraph(runbook, stepIDs: stepIDs, diagnosisIDs: diagnosisIDs)
        findings += graphIsComplete ? reachability.all : reachability.cycles
        return findings
    }

    func checkTemplates(_ runbook: Runbook, inputNames: [String], add: (String, String) -> Void) {
        func check(_ text: String, at path: String, shell: Bool = false) {
            guard text.contains("{{") else { return }
            do {
                let template = try Template(text)
                if shell {
                    for context in template.shellContexts where !context.raw {
                        guard let quote = context.quote else { continue }
                        if quote == "<" {
                            add(
                                path,
                                "'{{ \(context.name) }}' follows a here-document (<<) in a shell command, where quoting cannot make a value inert; pass the value as an argument (argv:, or \"$1\" with sh -c) or write {{ \(context.name) | raw }} if it is trusted"
                            )
                            continue
                        }
                        add(
                            path,
                            "'{{ \(context.name) }}' is inside \(quote)...\(quote) quotes in a shell command; remove the quotes around it: the value is quoted for the shell when it is inserted"
                        )
                    }
                }
                for name in template.names where !inputNames.contains(name) {
                    let known =
                        inputNames.isEmpty
                        ? "the runbook has no inputs" : "inputs are: \(inputNames.joined(separator: ", "))"
                    add(
                        path,
                        "unknown input '\(name)' in '{{ \(name) }}'\(didYouMean(name, among: inputNames)); \(known)")
                }
            } catch {
                add(path, error.message)
            }
        }
        for step in runbook.steps {
            for (name, argument) in step.arguments.sorted(by: { $0.key < $1.key }) {
                let shell = Template.quoting(probe: step.probe, argument: name) == .shell
                for scalar in argument.scalars { check(scalar, at: "steps.\(step.id).with.\(name)", shell: shell) }
            }
        }
        for diagnosis in runbook.diagnoses {
            check(diagnosis.title, at: "diagnoses.\(diagnosis.id).title")
            check(diagnosis.explain, at: "diagnoses.\(diagnosis.id).explain")
            for (index, command) in diagnosis.fix.enumerated() {
                check(command.command, at: "diagnoses.\(diagnosis.id).fix.\(index)", shell: true)
            }
        }
    }

    func checkProbe(_ step: Step, add: (String, String) -> Void) {
        guard !step.probe.isEmpty else { return }
        guard let kind = registry[step.probe] else {
            add(
                "steps.\(step.id).probe",
                "unknown probe kind '\(step.probe)'\(didYouMean(step.probe, among: registry.kinds.keys)); known kinds: \(registry.kinds.keys.sorted().joined(separator: ", "))"
            )
            return
        }
        var usable = true
        for name in step.arguments.keys.sorted() where !kind.accepted.contains(name) {
            usable = false
            let accepted = kind.accepted.sorted().joined(separator: ", ")
            add(
                "steps.\(step.id).with.\(name)@key",
                "unknown argument '\(name)' for probe '\(kind.name)'\(didYouMean(name, among: kind.accepted)); it accepts: \(accepted)"
            )
        }
        for name in kind.required.subtracting(step.arguments.keys).sorted() {
            usable = false
            add(
                step.arguments.isEmpty ? "steps.\(step.id).probe" : "steps.\(step.id).with",
                "probe '\(kind.name)' of step '\(step.id)' needs argument '\(name)' under 'with'")
        }
        // Arguments that hold no placeholder can be checked now; the rest are checked when the step runs.
        let isStatic = !step.arguments.values.contains { $0.scalars.contains { $0.contains("{{") } }
        guard usable, isStatic else { return }
        do {
            _ = try kind.make(ProbeArguments(step.arguments))
        } catch {
            let path = error.argument.isEmpty ? "steps.\(step.id).with" : "steps.\(step.id).with.\(error.argument)"
            add(path, "step '\(step.id)': \(error.description)")
        }
    }

    func checkGraph(_ runbook: Runbook, stepIDs: Set<String>, diagnosisIDs: Set<String>) -> (
        cycles: [Finding], all: [Finding]
    ) {
        var findings: [Finding] = []
        let source = runbook.source
        let stepsByID = Dictionary(runbook.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        // Depth-first walk from start with an explicit stack (runbooks may have thousands of steps): finds cycles
        // (an edge back to a step on the current path) and what is reachable.
        var reachedSteps: Set<String> = [runbook.start]
        var reachedDiagnoses = Set<String>()
        var onPath: [String: Int] = [runbook.start: 0]
        var stack: [(id: String, edges: [(String, String)], next: Int)] = []
        func edges(_ id: String) -> [(String, String)] {
            guard let step = stepsByID[id] else { return [] }
            return step.edges.map { edge in (edge.outcome.rawValue + (edge.cause.map { ".\($0)" } ?? ""), edge.target) }
        }
        stack.append((runbook.start, edges(runbook.start), 0))
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].edges.count else {
                onPath[stack[top].id] = nil
                stack.removeLast()
                continue
            }
            let (outcome, target) = stack[top].edges[stack[top].next]
            stack[top].next += 1
            let id = stack[top].id
            if diagnosisIDs.contains(target) {
                reachedDiagnoses.insert(target)
            } else if let index = onPath[target] {
                let cycle = (stack[index...].map(\.id) + [target]).joined(separator: " -> ")
                let label = outcome.replacingOccurrences(of: ".", with: " with cause ")
                findings.append(
                    Finding(
                        source.location("steps.\(id).on.\(outcome)"),
                        "step '\(id)' goes back to '\(target)' on \(label), making a cycle (\(cycle)); a runbook must always move forward to a diagnosis"
                    ))
            } else if stepIDs.contains(target) && reachedSteps.insert(target).inserted {
                onPath[target] = stack.count
                stack.append((target, edges(target), 0))
            }
        }
        let cycles = findings

        for step in runbook.steps where !reachedSteps.contains(step.id) && !diagnosisIDs.contains(step.id) {
            findings.append(
                Finding(
                    source.location("steps.\(step.id)"),
                    "step '\(step.id)' is unreachable: no path from start '\(runbook.start)' leads to it"))
        }
        let reachableTargets = Set(runbook.steps.flatMap { $0.edges.map(\.target) })
        for diagnosis in runbook.diagnoses where !reachedDiagnoses.contains(diagnosis.id) {
            let why =
                reachableTargets.contains(diagnosis.id)
                ? "only unreachable steps lead to it" : "no step leads to it"
            findings.append(
                Finding(
                    source.location("diagnoses.\(diagnosis.id)"),
                    "diagnosis '\(diagnosis.id)' is never reached: \(why)"))
        }
        return (cycles, findings)
    }
}
