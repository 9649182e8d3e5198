import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// The on-call handoff document: a run, where and by whom it ran, its findings ranked, and what changed since the
/// previous report. The `diagnose.report/v1` JSON contract.
public struct HandoffReport: Sendable, Hashable, Codable {
    /// The schema name and version.
    public var schema = HandoffReport.schemaName
    /// When, where and by whom.
    public var metadata: Metadata
    /// The run the report describes.
    public var run: RunReport
    /// The problems the run found, grouped by diagnosis id and ranked (see `findings(of:)`).
    public var findings: [Finding]
    /// What changed since the report passed to `--since`, if one was.
    public var changes: Changes?

    /// The schema this type encodes.
    public static let schemaName = "diagnose.report/v1"

    /// Creates a report; the findings are derived from the run, and the changes from `previous` when given.
    public init(run: RunReport, metadata: Metadata, previous: HandoffReport? = nil, previousPath: String = "") {
        self.metadata = metadata
        self.run = run
        self.findings = Self.findings(of: run)
        self.changes = previous.map { Changes(from: $0, to: run, path: previousPath) }
    }

    /// When, where and by whom the run was made.
    public struct Metadata: Sendable, Hashable, Codable {
        /// When the report was written.
        public var generatedAt: Date
        /// The machine's host name.
        public var host: String
        /// The user who ran it (`CurrentUser.name(environment:)`: `SUDO_USER`, `LOGNAME`, `USER`, the password
        /// database).
        public var user: String
        /// The folder the run started in: the Compose project's directory.
        public var projectDirectory: String
        /// The Compose project name (see `composeProject(inputs:environment:envFile:directory:)`).
        public var composeProject: String
        /// The command line, secrets redacted.
        public var command: String

        /// Creates metadata.
        public init(
            generatedAt: Date, host: String, user: String, projectDirectory: String, composeProject: String,
            command: String
        ) {
            self.generatedAt = generatedAt
            self.host = host
            self.user = user
            self.projectDirectory = projectDirectory
            self.composeProject = composeProject
            self.command = command
        }

        /// The Compose project: an input named `project`, else `COMPOSE_PROJECT_NAME` from the environment, then the
        /// env file, else the directory's name normalised as Compose does (lower case; letters, digits, `-`, `_`).
        public static func composeProject(
            inputs: [[String: String]], environment: [String: String], envFile: [String: String], directory: String
        ) -> String {
            let candidates =
                inputs.compactMap { $0["project"] }
                + [
                    environment["COMPOSE_PROJECT_NAME"], envFile["COMPOSE_PROJECT_NAME"],
                ].compactMap { $0 }
            if let named = candidates.first(where: { !$0.trimmingWhitespace().isEmpty }) {
                return named.trimmingWhitespace()
            }
            let folder = URL(fileURLWithPath: directory).lastPathComponent.lowercased()
            return String(folder.filter { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" })
        }
    }

    /// One problem, seen by one or more runbooks that reached the same diagnosis id.
    public struct Finding: Sendable, Hashable, Codable {
        /// The grouping key: the diagnosis id, shared by runbooks that name the same root cause.
        public var key: String
        /// The title, from the first runbook (in id order) that reached it.
        public var title: String
        /// The worst severity any runbook gave it.
        public var severity: Status
        /// Why it matters, from the first runbook.
        public var explain: String
        /// The fix commands of every runbook that reached it, each once, in order; a command changes the stack when
        /// any runbook says so.
        public var fix: [Fix]
        /// The runbooks that reached it, in id order.
        public var seenBy: [String]
        /// The finding (its key) that explains this one, when every runbook that reached it follows from a runbook
        /// that reached that one: a consequence, ranked after its root cause.
        public var follows: String?

        /// Whether more than one runbook traced its symptom to this finding.
        public var isSharedRootCause: Bool { seenBy.count > 1 }

        enum CodingKeys: String, CodingKey { case key, title, severity, explain, fix, changesStack, seenBy, follows }

        init(
            key: String, title: String, severity: Status, explain: String, fix: [Fix], seenBy: [String],
            follows: String? = nil
        ) {
            self.key = key
            self.title = title
            self.severity = severity
            self.explain = explain
            self.fix = fix
            self.seenBy = seenBy
            self.follows = follows
        }

        /// Decodes `fix` as commands and `changesStack` as those that change the stack, as `Diagnosis` does.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                key: try container.decode(String.self, forKey: .key),
                title: try container.decode(String.self, forKey: .title),
                severity: try container.decode(Status.self, forKey: .severity),
                explain: try container.decode(String.self, forKey: .explain),
                fix: try [Fix].decode(from: container, commands: .fix, changing: .changesStack),
                seenBy: try container.decode([String].self, forKey: .seenBy),
                follows: try container.decodeIfPresent(String.self, forKey: .follows))
        }

        /// Encodes as `Diagnosis` does: `fix` the commands, `changesStack` only when some change it.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            try container.encode(title, forKey: .title)
            try container.encode(severity, forKey: .severity)
            try container.encode(explain, forKey: .explain)
            try fix.encode(to: &container, commands: .fix, changing: .changesStack)
            try container.encode(seenBy, forKey: .seenBy)
            try container.encodeIfPresent(follows, forKey: .follows)
        }
    }

    /// How the findings moved since a previous report, compared by their grouping key.
    public struct Changes: Sendable, Hashable, Codable {
        /// The previous report's file, as given to `--since`.
        public var previousPath: String
        /// When the previous run started.
        public var previousStartedAt: Date
        /// Findings not in the previous report.
        public var new: [Entry]
        /// Previous findings that every runbook which saw them now checked and did not find.
        public var resolved: [Entry]
        /// Findings in both reports.
        public var stillOpen: [Entry]
        /// Previous findings not seen now because a runbook that saw them did not run or could not conclude.
        public var notRechecked: [Entry]

        /// A finding named in a comparison.
        public struct Entry: Sendable, Hashable, Codable {
            /// The grouping key.
            public var key: String
            /// The title.
            public var title: String
            /// The severity now, or when last seen for resolved and unchecked findings.
            public var severity: Status
            /// The severity in the previous report, for findings still open.
            public var previousSeverity: Status?
        }

        /// Compares the previous report's findings with the run's.
        public init(from previous: HandoffReport, to run: RunReport, path: String) {
            self.init(since: previous.run, to: run, path: path)
        }

        /// Compares the findings of a previous run with the run's (as `diagnose --watch` does between rounds).
        public init(since previous: RunReport, to run: RunReport, path: String = "") {
            let before = HandoffReport.findings(of: previous)
            let now = HandoffReport.findings(of: run)
            let beforeKeys = Dictionary(before.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            let nowKeys = Set(now.map(\.key))
            let concluded = Set(run.runbooks.filter { $0.status != .unknown }.map(\.id))
            func entry(_ finding: Finding, was: Status? = nil) -> Entry {
                Entry(key: finding.key, title: finding.title, severity: finding.severity, previousSeverity: was)
            }
            previousPath = path
            previousStartedAt = previous.startedAt
            new = now.filter { beforeKeys[$0.key] == nil }.map { entry($0) }
            stillOpen = now.compactMap { finding in beforeKeys[finding.key].map { entry(finding, was: $0.severity) } }
            let gone = before.filter { !nowKeys.contains($0.key) }
            resolved = gone.filter { $0.seenBy.allSatisfy(concluded.contains) }.map { entry($0) }
            notRechecked = gone.filter { !$0.seenBy.allSatisfy(concluded.contains) }.map { entry($0) }
        }
    }

    /// The run's problems: runbooks ending in a warning or critical diagnosis, grouped by diagnosis id, ranked root
    /// causes first (a finding that follows from another comes after), then by severity (critical first), then by
    /// how many runbooks saw it (a shared root cause first), then by id.
    /// Runbooks that ended `ok` or could not conclude (`unknown`) are not findings.
    public static func findings(of run: RunReport) -> [Finding] {
        var byKey: [String: Finding] = [:]
        for result in run.runbooks.sorted(by: { $0.id < $1.id })
        where result.status == .warning || result.status == .critical {
            let diagnosis = result.diagnosis
            guard var finding = byKey[diagnosis.id] else {
                byKey[diagnosis.id] = Finding(
                    key: diagnosis.id, title: diagnosis.title, severity: result.status, explain: diagnosis.explain,
                    fix: diagnosis.fix, seenBy: [result.id])
                continue
            }
            finding.seenBy.append(result.id)
            if rank(result.status) > rank(finding.severity) { finding.severity = result.status }
            for entry in diagnosis.fix {
                if let index = finding.fix.firstIndex(where: { $0.command == entry.command }) {
                    finding.fix[index].changesStack = finding.fix[index].changesStack || entry.changesStack
                } else {
                    finding.fix.append(entry)
                }
            }
            byKey[diagnosis.id] = finding
        }
        let results = Dictionary(run.runbooks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, finding) in byKey {
            let roots = Set(finding.seenBy.map { results[$0]?.explainedBy.flatMap { results[$0]?.diagnosis.id } })
            if roots.count == 1, let root = roots.first ?? nil, root != key { byKey[key]?.follows = root }
        }
        return byKey.values.sorted {
            ($0.follows == nil ? 1 : 0, rank($0.severity), $0.seenBy.count, $1.key)
                > ($1.follows == nil ? 1 : 0, rank($1.severity), $1.seenBy.count, $0.key)
        }
    }

    static func rank(_ status: Status) -> Int {
        switch status {
        case .ok: 0
        case .unknown: 1
        case .warning: 2
        case .critical: 3
        }
    }

    /// The report with every string it adds to its run passed through the redactor: the metadata and the previous
    /// report's titles. The run (and the findings drawn from it) was redacted where the engine made it.
    public func redacted(by redactor: Redactor) -> HandoffReport {
        var copy = self
        copy.metadata.host = redactor.redact(metadata.host)
        copy.metadata.user = redactor.redact(metadata.user)
        copy.metadata.projectDirectory = redactor.redact(metadata.projectDirectory)
        copy.metadata.composeProject = redactor.redact(metadata.composeProject)
        copy.metadata.command = redactor.redact(metadata.command)
        if var changes {
            changes.previousPath = redactor.redact(changes.previousPath)
            for keyPath in [\Changes.new, \.resolved, \.stillOpen, \.notRechecked] {
                changes[keyPath: keyPath] = changes[keyPath: keyPath].map { entry in
                    var entry = entry
                    entry.title = redactor.redact(entry.title)
                    return entry
                }
            }
            copy.changes = changes
        }
        return copy
    }

    /// The JSON form (sorted keys, ISO 8601 dates), read back by `decode(_:)`.
    public func json() -> String {
        guard let data = try? JSONEncoder.diagnose.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a report written by `json()`, telling apart other JSON, a run report and a broken file.
    public static func decode(_ data: Data) throws(ReportFileError) -> HandoffReport {
        struct Header: Decodable { var schema: String? }
        guard let header = try? JSONDecoder.diagnose.decode(Header.self, from: data) else {
            throw .notJSON
        }
        switch header.schema {
        case schemaName:
            do {
                return try JSONDecoder.diagnose.decode(HandoffReport.self, from: data)
            } catch {
                throw .malformed(String(describing: error))
            }
        case RunReport.schemaName?: throw .runReport
        case let other: throw .otherSchema(other)
        }
    }
}

/// Why a file cannot be read as a `diagnose.report/v1` report.
public enum ReportFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is not a JSON object (a Markdown report, say).
    case notJSON
    /// The file is a `diagnose.run/v1` run report, not a handoff report.
    case runReport
    /// The file is JSON with another schema, or none.
    case otherSchema(String?)
    /// The file says it is a report but does not decode.
    case malformed(String)

    public var description: String {
        switch self {
        case .notJSON:
            "is not JSON; pass the .json file that `diagnose report` writes beside the Markdown"
        case .runReport:
            "is a \(RunReport.schemaName) run (from `diagnose --format json`), not a \(HandoffReport.schemaName) report; "
                + "pass the .json file that `diagnose report` writes"
        case .otherSchema(let schema?):
            "has schema '\(schema)', not \(HandoffReport.schemaName); pass the .json file that `diagnose report` writes"
        case .otherSchema(nil):
            "is JSON without a 'schema' key, not a \(HandoffReport.schemaName) report; "
                + "pass the .json file that `diagnose report` writes"
        case .malformed(let reason):
            "says it is a \(HandoffReport.schemaName) report but cannot be read: \(reason)"
        }
    }
}
