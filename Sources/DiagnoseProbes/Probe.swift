import DiagnoseCompose
import DiagnosePlatform

/// A check against the world. A failed check is an observation, not an error.
public protocol Probe: Sendable {
    /// Runs the check within `context.timeout` and reports what it saw.
    func run(_ context: ProbeContext) async -> Observation
}

/// What a probe saw.
public struct Observation: Sendable, Hashable, Codable {
    /// How the probe ended.
    public var outcome: Outcome
    /// A short machine-readable code for a fail or error, e.g. `connection-refused`.
    public var cause: String?
    /// One line for a person.
    public var summary: String
    /// Lines of proof: replies, log excerpts, command output; bounded.
    public var evidence: [String]

    /// Creates an observation.
    public init(outcome: Outcome, cause: String? = nil, summary: String, evidence: [String] = []) {
        self.outcome = outcome
        self.cause = cause
        self.summary = summary
        self.evidence = evidence
    }

    /// The check holds.
    public static func pass(_ summary: String, evidence: [String] = []) -> Observation {
        Observation(outcome: .pass, summary: summary, evidence: evidence)
    }

    /// The check does not hold, for this cause.
    public static func fail(_ cause: String, _ summary: String, evidence: [String] = []) -> Observation {
        Observation(outcome: .fail, cause: cause, summary: summary, evidence: evidence)
    }

    /// The probe could not tell, for this cause.
    public static func error(_ cause: String, _ summary: String, evidence: [String] = []) -> Observation {
        Observation(outcome: .error, cause: cause, summary: summary, evidence: evidence)
    }
}

/// A probe kind: its name, its arguments, and how to build a probe from them.
public struct ProbeKind: Sendable {
    /// The name used after `probe:`.
    public let name: String
    /// Arguments that must be given.
    public let required: Set<String>
    /// Arguments that may be given.
    public let optional: Set<String>
    /// Builds a probe from interpolated arguments, or says which argument is unusable.
    public let make: @Sendable (ProbeArguments) throws(ProbeArgumentError) -> any Probe

    /// Creates a kind.
    public init(
        name: String, required: Set<String> = [], optional: Set<String> = [],
        make: @escaping @Sendable (ProbeArguments) throws(ProbeArgumentError) -> any Probe
    ) {
        self.name = name
        self.required = required
        self.optional = optional
        self.make = make
    }

    /// Every argument the kind accepts.
    public var accepted: Set<String> { required.union(optional) }
}

/// The probe kinds a runbook may name.
public struct ProbeRegistry: Sendable {
    /// Kinds by name.
    public private(set) var kinds: [String: ProbeKind]

    /// Creates a registry of these kinds.
    public init(_ kinds: [ProbeKind]) {
        self.kinds = Dictionary(kinds.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The kind with this name, if any.
    public subscript(name: String) -> ProbeKind? { kinds[name] }

    /// The kinds that ship with diagnose.
    public static let standard = ProbeRegistry([
        .command, .composeConfig, .composeDrift, .composeEnv, .composeLint, .composeService, .dns, .env, .http,
        .listeners, .logErrors, .logs, .redis, .redisServer, .tcp,
    ])
}
