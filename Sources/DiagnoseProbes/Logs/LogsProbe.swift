import DiagnoseCompose
import DiagnosePlatform

/// Searches the end of a log for a pattern: a file, a command's output, or a compose service's container log.
///
/// Causes: `found` (fail, expect absent), `not-found` (fail, expect present); `unreadable`, `timeout`,
/// `not-created`, `docker-missing`, `engine-unreachable`, `docker-error`, `cancelled` (error).
public struct LogsProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The run was cancelled: deadline or interruption (error).
        case cancelled
        /// A line matches the pattern that must be absent.
        case found
        /// What was looked for is not there (for `command`: the program does not exist; error).
        case notFound = "not-found"
        /// It did not finish within the step timeout.
        case timeout
        /// The file cannot be read (error).
        case unreadable
    }

    /// Where the log comes from.
    public enum Source: Sendable, Hashable {
        /// A file, read from its end.
        case file(String)
        /// A program's standard output and error, interleaved.
        case command([String])
        /// A compose service's container log (`docker logs --tail`).
        case service(String, ComposeProject.Selector)
    }

    /// Whether the pattern must be absent or present.
    public enum Expectation: String, Sendable, Hashable {
        /// The step passes when no line matches.
        case absent
        /// The step passes when some line matches.
        case present
    }

    /// Where the log comes from.
    public var source: Source
    /// What is searched for.
    public var search: LineSearch
    /// Whether it must be absent or present.
    public var expect: Expectation
    /// How many lines from the end are searched.
    public var tail: Int
    /// Lines shown around the match.
    public var context: Int

    /// The most traceback lines shown.
    static let tracebackLines = 60
    /// The most bytes of an excerpt.
    static let excerptBytes = 8 * 1024

    /// Builds the probe: exactly one of `file`, `command`, `service` (with `project`, `project_dir`, `compose_file`,
    /// `env_file`); `pattern`; `expect`, `tail`, `context`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        source = try Source(arguments)
        guard let pattern = try arguments.pattern("pattern") else { throw ProbeArgumentError("pattern", "is required") }
        search = LineSearch(pattern)
        expect = try arguments.choice("expect", ["absent", "present"]).flatMap(Expectation.init(rawValue:)) ?? .absent
        tail = try arguments.int("tail", in: 1...10_000_000) ?? 2000
        context = try arguments.int("context", in: 0...100) ?? 0
    }

    public func run(_ context: ProbeContext) async -> Observation {
        if case .file(let path) = source { return await searchFile(path, context) }
        switch await source.read(tail: tail, context) {
        case .failure(let failure): return failure.observation
        case .success(let read): return judge(read.log, name: read.name, notes: read.notes)
        }
    }

    /// What a search of a log's end found.
    struct Finding: Sendable {
        /// The last matching line, and the lines shown around it.
        struct Match: Sendable {
            var line: String
            var excerpt: String
            var isTraceback: Bool
        }
        /// How many lines matched.
        var count: Int
        /// The last of them.
        var last: Match?
        /// Bytes scanned, the source's size, and whether the byte limit cut the lines searched.
        var bytesRead: Int
        var sourceSize: Int
        var cutByLimit: Bool
    }

    /// Judges the searched tail of a log in memory.
    func judge(_ log: LogTail, name: String, notes: [String]) -> Observation {
        let matches = search.matchingLines(in: log.bytes)
        let last = matches.last.map { last in
            let excerpt = Self.excerpt(around: last, in: log.bytes, context: context)
            return Finding.Match(
                line: String(decoding: log.bytes[last], as: UTF8.self), excerpt: excerpt.text,
                isTraceback: excerpt.isTraceback)
        }
        let finding = Finding(
            count: matches.count, last: last, bytesRead: log.bytesRead, sourceSize: log.sourceSize,
            cutByLimit: log.cutByLimit)
        return judge(finding, name: name, notes: notes)
    }

    /// A file's tail, searched while it is read (LogFileSearch) rather than gathered first.
    func searchFile(_ path: String, _ context: ProbeContext) async -> Observation {
        let full = context.resolve(path)
        let (search, tail, lines) = (search, tail, self.context)
        let searched = await offload { () -> Result<Finding, LogTail.ReadError> in
            Result { () throws(LogTail.ReadError) in
                let (found, excerpt) = try LogFileSearch.search(path: full, lines: tail, for: search)
                var last: Finding.Match?
                if let match = found.matches.last, let excerpt {
                    let local = (match.lowerBound - excerpt.base)..<(match.upperBound - excerpt.base)
                    let shown = Self.excerpt(around: local, in: excerpt.bytes, context: lines)
                    last = Finding.Match(
                        line: String(decoding: excerpt.bytes[local], as: UTF8.self), excerpt: shown.text,
                        isTraceback: shown.isTraceback)
                }
                return Finding(
                    count: found.matches.count, last: last, bytesRead: found.bytesRead, sourceSize: found.size,
                    cutByLimit: found.cutByLimit)
            }
        }
        switch searched {
        case .failure(let error): return .error(Cause.unreadable.rawValue, "cannot read the log \(error)")
        case .success(let finding): return judge(finding, name: path, notes: [])
        }
    }

    /// Judges what a search found.
    func judge(_ finding: Finding, name: String, notes: [String]) -> Observation {
        let scope = "the last \(tail) lines of \(name)"
        var evidence = notes
        let count = finding.count
        evidence.append(
            "\(count) matching line\(count == 1 ? "" : "s") for /\(search.pattern.source)/ in \(scope)"
                + " (read \(finding.bytesRead) of \(finding.sourceSize) bytes"
                + "\(finding.cutByLimit ? ", cut at the byte limit" : ""))"
        )
        guard let last = finding.last else {
            return expect == .absent
                ? .pass("no line matches /\(search.pattern.source)/ in \(scope)", evidence: evidence)
                : .fail(
                    Cause.notFound.rawValue, "no line matches /\(search.pattern.source)/ in \(scope)",
                    evidence: evidence)
        }
        evidence.append(Redactor.standard.redact(last.excerpt))
        let line = Redactor.standard.redact(last.line).trimmingWhitespace().truncated(to: 200)
        let what = last.isTraceback ? "a Python traceback ending in" : "a line matching /\(search.pattern.source)/:"
        return expect == .absent
            ? .fail(Cause.found.rawValue, "\(name) has \(what) \(line)", evidence: evidence)
            : .pass("\(name) has \(what) \(line)", evidence: evidence)
    }

    /// The match with `context` lines around it; when the match ends a Python traceback, the whole traceback.
    static func excerpt(around match: Range<Int>, in bytes: [UInt8], context: Int) -> (text: String, isTraceback: Bool)
    {
        bytes.withUnsafeBytes { buffer in
            func previous(_ line: Range<Int>) -> Range<Int>? {
                line.lowerBound == 0 ? nil : LineSearch.line(containing: line.lowerBound - 1, in: buffer)
            }
            func next(_ line: Range<Int>) -> Range<Int>? {
                line.upperBound >= buffer.count ? nil : LineSearch.line(containing: line.upperBound + 1, in: buffer)
            }
            func text(_ line: Range<Int>) -> String { String(decoding: buffer[line], as: UTF8.self) }

            var lines: [Range<Int>] = []
            if let start = tracebackStart(endingAt: match, previous: previous, text: text) {
                var cursor: Range<Int>? = start
                while let line = cursor, line.lowerBound <= match.lowerBound {
                    lines.append(line)
                    cursor = next(line)
                }
            } else {
                var before: [Range<Int>] = []
                var cursor = previous(match)
                while before.count < context, let line = cursor {
                    before.insert(line, at: 0)
                    cursor = previous(line)
                }
                var after: [Range<Int>] = []
                cursor = next(match)
                while after.count < context, let line = cursor, !(line.isEmpty && line.upperBound >= buffer.count) {
                    after.append(line)
                    cursor = next(line)
                }
                return (bounded(before + [match] + after, text: text, keepEnd: false), false)
            }
            return (bounded(lines, text: text, keepEnd: true), true)
        }
    }

    /// Where the traceback that the match ends starts: walking up over indented lines (and chained
    /// "During handling..." sections) to `Traceback (most recent call last):`.
    static func tracebackStart(
        endingAt match: Range<Int>, previous: (Range<Int>) -> Range<Int>?, text: (Range<Int>) -> String
    ) -> Range<Int>? {
        let header = "Traceback (most recent call last):"
        let chains = [
            "During handling of the above exception, another exception occurred:",
            "The above exception was the direct cause of the following exception:",
        ]
        guard let first = text(match).first, first != " ", first != "\t" else { return nil }
        var start: Range<Int>?
        var cursor = previous(match)
        var walked = 0
        while let line = cursor, walked < 2000 {
            walked += 1
            let content = text(line)
            if content.hasSuffix(header) {
                start = line
                // A chained exception continues above: blank, the chain sentence, blank, the earlier exception.
                guard let blank = previous(line), text(blank).trimmingWhitespace().isEmpty,
                    let sentence = previous(blank), chains.contains(text(sentence).trimmingWhitespace()),
                    let gap = previous(sentence), text(gap).trimmingWhitespace().isEmpty,
                    let earlier = previous(gap)
                else { break }
                cursor = previous(earlier)
                continue
            }
            guard content.first == " " || content.first == "\t" else { break }
            cursor = previous(line)
        }
        return start
    }

    /// Lines joined, keeping at most `tracebackLines` lines and `excerptBytes` bytes, from the end or the start.
    static func bounded(_ lines: [Range<Int>], text: (Range<Int>) -> String, keepEnd: Bool) -> String {
        var kept = keepEnd ? Array(lines.suffix(tracebackLines)) : Array(lines.prefix(tracebackLines))
        var size = kept.reduce(0) { $0 + $1.count + 1 }
        while size > excerptBytes, kept.count > 1 {
            size -= (keepEnd ? kept.removeFirst() : kept.removeLast()).count + 1
        }
        var shown = kept.map { text($0).truncated(to: excerptBytes) }
        let dropped = lines.count - kept.count
        if dropped > 0 {
            let note = "(\(dropped) line\(dropped == 1 ? "" : "s") \(keepEnd ? "above" : "below") not shown)"
            if keepEnd { shown.insert(note, at: 0) } else { shown.append(note) }
        }
        return shown.joined(separator: "\n")
    }
}

extension LogsProbe.Source {
    /// Exactly one of `file`, `command`, `service` (with `project`, `project_dir`, `compose_file`, `env_file`).
    init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        let file = try arguments.string("file")
        let command = try arguments.strings("command")
        let service = try arguments.string("service")
        switch (file, command, service) {
        case (let file?, nil, nil): self = .file(file)
        case (nil, let command?, nil):
            guard let program = command.first, !program.isEmpty else {
                throw ProbeArgumentError("command", "must name a program: command: [program, args...]")
            }
            self = .command(command)
        case (nil, nil, let service?):
            self = .service(service, try ComposeProject.Selector(arguments, fileArgument: "compose_file"))
        default: throw ProbeArgumentError("", "give exactly one of 'file', 'command' or 'service'")
        }
        if case .service = self {
        } else if let extra = ComposeProject.argumentNamesBesideFile.sorted().first(where: arguments.has) {
            throw ProbeArgumentError(extra, "only applies to 'service:' logs")
        }
    }

    /// A log as read for a probe.
    struct Read: Sendable {
        /// Its last lines.
        var log: LogTail
        /// How summaries name it: the path, the program, `service 'worker'`.
        var name: String
        /// How it was read, for the evidence: the `docker logs` command, a command's non-zero exit.
        var notes: [String]
        /// The service's container, for `service:` logs.
        var container: ContainerInfo?
    }

    /// Why a log could not be read, as the observation to report.
    struct ReadFailure: Error {
        /// An `error` observation: `unreadable`, `timeout`, `cancelled` or a compose adapter cause.
        var observation: Observation
    }

    /// The last `tail` lines of the log; for a service, since its container's current start (the adapter's rule),
    /// each line starting with the engine's timestamp when `timestamps` is set.
    func read(tail: Int, timestamps: Bool = false, _ context: ProbeContext) async -> Result<Read, ReadFailure> {
        typealias Cause = LogsProbe.Cause
        switch self {
        case .file(let path):
            let full = context.resolve(path)
            do {
                let log = try await offload { () -> Result<LogTail, LogTail.ReadError> in
                    Result { () throws(LogTail.ReadError) in try LogTail.read(path: full, lines: tail) }
                }.get()
                return .success(Read(log: log, name: path, notes: []))
            } catch {
                return .failure(
                    ReadFailure(observation: .error(Cause.unreadable.rawValue, "cannot read the log \(error)")))
            }
        case .command(let argv):
            let result = await ProcessRunner.run(
                argv, environment: context.environment, workingDirectory: context.workingDirectory,
                timeout: context.timeout, captureLimit: LogTail.byteLimit, cancellation: context.cancellation,
                mergingStandardError: true, keepingEnd: true)
            let shown = "$ " + argv.map(shellQuoted).joined(separator: " ")
            var notes: [String] = []
            switch result.ending {
            case .launchFailed:
                return .failure(
                    ReadFailure(
                        observation: .error(
                            Cause.unreadable.rawValue, "\(argv[0]) could not be started", evidence: [shown])))
            case .timedOut:
                return .failure(
                    ReadFailure(
                        observation: .error(
                            Cause.timeout.rawValue,
                            "\(argv[0]) did not finish within \(context.timeout.shortDescription)", evidence: [shown])))
            case .cancelled:
                return .failure(
                    ReadFailure(
                        observation: .error(Cause.cancelled.rawValue, "the run was cancelled", evidence: [shown])))
            case .exited(let status) where status != 0: notes.append("\(shown) exited with \(status)")
            case .signalled(let signal): notes.append("\(shown) was killed by signal \(signal)")
            case .exited: break
            }
            return .success(Read(log: LogTail(ofEnd: result, lines: tail), name: argv[0], notes: notes))
        case .service(let service, let selector):
            let project = context.compose.project(selector)
            switch await context.compose.logs(
                of: service, in: project.name, tail: tail, timestamps: timestamps, timeout: context.timeout,
                cancellation: context.cancellation)
            {
            case .failure(let error): return .failure(ReadFailure(observation: error.observation))
            case .success(let read):
                return .success(
                    Read(
                        log: LogTail(of: Array(read.result.stdout.utf8), lines: tail), name: "service '\(service)'",
                        notes: [read.command], container: read.container))
            }
        }
    }
}

extension ProbeKind {
    /// `logs`: a pattern is absent from (or present in) the end of a log.
    public static let logs = ProbeKind(
        name: "logs", required: ["pattern"],
        optional: ComposeProject.argumentNamesBesideFile.union([
            "file", "command", "service", "expect", "tail", "context",
        ])
    ) { arguments throws(ProbeArgumentError) in try LogsProbe(arguments) }
}
