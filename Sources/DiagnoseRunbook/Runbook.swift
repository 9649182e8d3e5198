import DiagnosePlatform
import DiagnoseProbes

/// A troubleshooting decision tree: steps that run probes and branch on their outcome, ending in a diagnosis.
public struct Runbook: Sendable, Hashable {
    /// The runbook's id: the `id` key, else the file name without its extension.
    public var id: String
    /// A short, human title.
    public var title: String
    /// What symptom the runbook investigates.
    public var description: String
    /// Named inputs in file order; their templates may read the environment.
    public var inputs: [Input]
    /// The id of the first step.
    public var start: String
    /// Steps in file order.
    public var steps: [Step]
    /// Diagnoses in file order.
    public var diagnoses: [Diagnosis]
    /// Where the runbook came from, and where each of its parts sits in that file.
    public var source: SourceMap

    /// Creates a runbook from its parts.
    public init(
        id: String, title: String, description: String = "", inputs: [Input] = [], start: String,
        steps: [Step], diagnoses: [Diagnosis], source: SourceMap = SourceMap(file: "<memory>")
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.inputs = inputs
        self.start = start
        self.steps = steps
        self.diagnoses = diagnoses
        self.source = source
    }

    /// The step with this id, if any.
    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    /// The diagnosis with this id, if any.
    public func diagnosis(_ id: String) -> Diagnosis? { diagnoses.first { $0.id == id } }
}

/// A named value a runbook reads, e.g. `redis_url: ${REDIS_URL:-redis://localhost:6379/0}`.
public struct Input: Sendable, Hashable {
    /// The input's name, used as `{{ name }}`.
    public var name: String
    /// The raw value, which may hold `${VAR}` and `${VAR:-default}`.
    public var template: String

    /// Creates an input.
    public init(name: String, template: String) {
        self.name = name
        self.template = template
    }
}

extension Input {
    /// An input's template as it may be shown: a literal or a default of a secret-looking input is masked.
    public var shownTemplate: String {
        let redacted = Redactor.standard.redact(template)
        guard Redactor.isSecretName(name), !template.isEmpty else { return redacted }
        guard template.hasPrefix("${"), template.hasSuffix("}") else { return Redactor.mask }
        guard let separator = template.range(of: ":-") else { return template }
        return String(template[..<separator.upperBound]) + Redactor.mask + "}"
    }
}

/// One check in a runbook: a probe, its arguments, and where each outcome leads.
public struct Step: Sendable, Hashable {
    /// The step's id within its runbook.
    public var id: String
    /// What the step checks, for a person.
    public var title: String
    /// The probe kind's name, e.g. `redis`.
    public var probe: String
    /// The kind's arguments, before `{{ name }}` interpolation.
    public var arguments: [String: ArgumentValue]
    /// How long the probe may take.
    public var timeout: Duration
    /// Where each outcome leads: a step id or a diagnosis id (for `fail` and `error`, when no cause route matches).
    public var next: [Outcome: String]
    /// Where a `fail` or `error` with a given cause leads, before `next` applies.
    public var causeRoutes: [Outcome: [String: String]]

    /// The default step timeout.
    public static let defaultTimeout: Duration = ProbeContext.defaultTimeout

    /// Creates a step.
    public init(
        id: String, title: String, probe: String, arguments: [String: ArgumentValue] = [:],
        timeout: Duration = Step.defaultTimeout, next: [Outcome: String], causeRoutes: [Outcome: [String: String]] = [:]
    ) {
        self.id = id
        self.title = title
        self.probe = probe
        self.arguments = arguments
        self.timeout = timeout
        self.next = next
        self.causeRoutes = causeRoutes
    }
}

extension Step {
    /// Where an outcome with this cause leads: its cause route, else the outcome's default.
    public func target(for outcome: Outcome, cause: String?) -> String? {
        if let cause, let routed = causeRoutes[outcome]?[cause] { return routed }
        return next[outcome]
    }

    /// Every edge out of the step: the outcome, the cause it is routed on (nil for the default), the target.
    public var edges: [(outcome: Outcome, cause: String?, target: String)] {
        Outcome.allCases.flatMap { outcome -> [(outcome: Outcome, cause: String?, target: String)] in
            let routed = (causeRoutes[outcome] ?? [:]).sorted { $0.key < $1.key }.map {
                (outcome: outcome, cause: Optional($0.key), target: $0.value)
            }
            return routed + (next[outcome].map { [(outcome: outcome, cause: nil, target: $0)] } ?? [])
        }
    }
}

/// A conclusion: one a runbook declares, and the one a run reaches (with its templates filled in), which may also
/// be an inconclusive ending of status `unknown`.
public struct Diagnosis: Sendable, Hashable, Codable {
    /// The diagnosis id within its runbook; `inconclusive`, `incomplete` or `interrupted` when none was reached.
    public var id: String
    /// One line: what is wrong (or that all is well).
    public var title: String
    /// How bad it is: `ok`, `warning` or `critical` (see `Status.declarable`), or `unknown` for the inconclusive
    /// endings of a run.
    public var severity: Status
    /// Why it matters and what it means.
    public var explain: String
    /// The exact next commands to run, each saying whether it changes the stack.
    public var fix: [Fix]
    /// The runbook whose symptom this diagnosis is a consequence of (`follows: backend-wont-start`): when that
    /// runbook ran in the same run and did not end OK, it is the root cause and this one points at it.
    public var follows: String?

    /// Creates a diagnosis.
    public init(
        id: String, title: String, severity: Status, explain: String = "", fix: [Fix] = [], follows: String? = nil
    ) {
        self.id = id
        self.title = title
        self.severity = severity
        self.explain = explain
        self.fix = fix
        self.follows = follows
    }
}
