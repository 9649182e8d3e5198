import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// Exit codes, following the Nagios plugin conventions so `diagnose --all` can serve as a monitoring check.
public enum ExitStatus: Int32, Sendable {
    /// Every runbook ended in an `ok` diagnosis.
    case ok = 0
    /// The worst diagnosis is a warning.
    case warning = 1
    /// The worst diagnosis is critical.
    case critical = 2
    /// Inconclusive: an unmapped error, the deadline or an interruption, and nothing critical.
    case unknown = 3
    /// The command line is wrong.
    case usage = 64
    /// A runbook, or the saved run given to `render`, is invalid (`EX_DATAERR`).
    case invalidData = 65
    /// The file given to `render` cannot be read (`EX_NOINPUT`).
    case noInput = 66
    /// An output file cannot be created (the folder is missing or not writable).
    case cannotCreate = 73

    /// The exit status for a run's overall status.
    public init(_ status: Status) {
        switch status {
        case .ok: self = .ok
        case .warning: self = .warning
        case .critical: self = .critical
        case .unknown: self = .unknown
        }
    }
}

/// One run of one or more runbooks: the `diagnose.run/v1` JSON contract.
public struct RunReport: Sendable, Hashable, Codable {
    /// The schema name and version.
    public var schema = RunReport.schemaName
    /// The worst status of the runbooks.
    public var status: Status
    /// When the run started.
    public var startedAt: Date
    /// How long the run took.
    public var durationMs: Int
    /// Why the run ended early, if it did: `deadline` or `interrupted`.
    public var stopped: String?
    /// Each runbook's result, in id order.
    public var runbooks: [RunbookResult]

    /// The schema this type encodes.
    public static let schemaName = "diagnose.run/v1"

    /// Creates a report; the status, and which runbook's finding explains which, are derived from the runbooks.
    public init(startedAt: Date, durationMs: Int, stopped: String? = nil, runbooks: [RunbookResult]) {
        self.status = Status.worst(runbooks.map(\.status))
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.stopped = stopped
        self.runbooks = Self.linkingRootCauses(runbooks)
    }

    /// Each result whose diagnosis `follows` a runbook that ran here and did not end OK is explained by that runbook
    /// (or, when that one follows another in turn, by the first of the chain that follows none).
    static func linkingRootCauses(_ results: [RunbookResult]) -> [RunbookResult] {
        let byID = Dictionary(results.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func failing(_ id: String?) -> RunbookResult? {
            guard let id, let result = byID[id], result.status == .warning || result.status == .critical else {
                return nil
            }
            return result
        }
        return results.map { result in
            var copy = result
            copy.explainedBy = nil
            guard result.status != .ok, var root = failing(result.diagnosis.follows), root.id != result.id else {
                return copy
            }
            var seen: Set<String> = [result.id, root.id]
            while let next = failing(root.diagnosis.follows), seen.insert(next.id).inserted { root = next }
            copy.explainedBy = root.id
            return copy
        }
    }

    /// The runbooks whose finding nothing else in the run explains, in order: the root causes.
    public var rootCauses: [RunbookResult] {
        runbooks.filter { ($0.status == .warning || $0.status == .critical) && $0.explainedBy == nil }
    }

    /// The process exit status for this run.
    public var exitStatus: ExitStatus { ExitStatus(status) }
}

/// How one runbook ended and the path it took.
public struct RunbookResult: Sendable, Hashable, Codable {
    /// The runbook's id.
    public var id: String
    /// The runbook's title.
    public var title: String
    /// The diagnosis's severity, or `unknown` when the runbook could not conclude.
    public var status: Status
    /// Where the runbook ended.
    public var diagnosis: Diagnosis
    /// Each step taken, in order, with its observation.
    public var path: [StepRecord]
    /// The inputs the runbook ran with, secrets redacted.
    public var inputs: [String: String]
    /// How long the runbook took.
    public var durationMs: Int
    /// The runbook of this run whose finding this one follows from (its diagnosis's `follows`), if that one failed.
    public var explainedBy: String?

    /// Creates a result; the status follows the conclusion.
    public init(
        id: String, title: String, diagnosis: Diagnosis, path: [StepRecord], inputs: [String: String] = [:],
        durationMs: Int
    ) {
        self.id = id
        self.title = title
        self.status = diagnosis.severity
        self.diagnosis = diagnosis
        self.path = path
        self.inputs = inputs
        self.durationMs = durationMs
    }
}

extension Diagnosis {
    /// The id of the ending when a probe error has no mapping.
    public static let inconclusiveID = "inconclusive"
    /// The id of the ending when the deadline stopped the runbook.
    public static let incompleteID = "incomplete"
    /// The id of the ending when the run was interrupted.
    public static let interruptedID = "interrupted"
}

/// One step taken: what ran and what it saw.
public struct StepRecord: Sendable, Hashable, Codable {
    /// The step's id.
    public var step: String
    /// The step's title.
    public var title: String
    /// The probe kind.
    public var probe: String
    /// How the probe ended.
    public var outcome: Outcome
    /// The cause code of a fail or error.
    public var cause: String?
    /// How long this runbook waited for the observation.
    public var durationMs: Int
    /// One line.
    public var summary: String
    /// Lines of proof.
    public var evidence: [String]
    /// Whether the observation was shared with a runbook that asked for the same probe first.
    public var shared: Bool

    /// Creates a record from an observation.
    public init(step: Step, observation: Observation, durationMs: Int, shared: Bool = false) {
        self.step = step.id
        self.title = step.title
        self.probe = step.probe
        self.outcome = observation.outcome
        self.cause = observation.cause
        self.durationMs = durationMs
        self.summary = observation.summary
        self.evidence = observation.evidence
        self.shared = shared
    }
}

extension RunReport {
    /// The report with every string passed through the redactor.
    public func redacted(by redactor: Redactor) -> RunReport {
        var copy = self
        copy.runbooks = runbooks.map { $0.redacted(by: redactor) }
        return copy
    }

    /// The JSON form of the report (sorted keys, ISO 8601 dates).
    public func json() -> String {
        let encoder = JSONEncoder.diagnose
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes a report written by `json()`.
    public static func decode(_ data: Data) throws -> RunReport {
        try JSONDecoder.diagnose.decode(RunReport.self, from: data)
    }
}

extension RunbookResult {
    func redacted(by redactor: Redactor) -> RunbookResult {
        var copy = self
        copy.title = redactor.redact(title)
        copy.diagnosis.title = redactor.redact(diagnosis.title)
        copy.diagnosis.explain = redactor.redact(diagnosis.explain)
        copy.diagnosis.fix = diagnosis.fix.map { $0.map(redactor.redact) }
        copy.inputs = inputs.reduce(into: [:]) { result, entry in
            result[entry.key] =
                Redactor.isSecretName(entry.key) && !entry.value.isEmpty
                ? Redactor.mask : redactor.redact(entry.value)
        }
        copy.path = path.map { record in
            var record = record
            record.summary = redactor.redact(record.summary)
            record.evidence = record.evidence.map(redactor.redact)
            return record
        }
        return copy
    }
}

extension JSONEncoder {
    /// The encoder for diagnose's JSON: sorted keys, ISO 8601 dates, pretty-printed.
    public static var diagnose: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder for diagnose's JSON.
    public static var diagnose: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
