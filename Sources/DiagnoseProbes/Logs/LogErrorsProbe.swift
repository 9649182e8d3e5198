import CProcessShim
import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// The most recent error of a service's log since its container started, classified by a signature table.
///
/// Causes: `unclassified` or a signature's cause (fail; see `LogSignature.builtIn`); `unreadable`, `timeout`,
/// `not-created`, `docker-missing`, `engine-unreachable`, `docker-error`, `cancelled` (error).
public struct LogErrorsProbe: Probe {
    /// The causes of its fail observations: `unclassified` and the built-in signatures' causes (a runbook's own
    /// signatures add theirs); a log that cannot be read is a `logs` cause (`LogsProbe.Cause`) or the adapter's.
    public enum Cause: String, Sendable {
        /// The Streamlit app raised an exception.
        case appException = "app-exception"
        /// The frontend cannot reach the backend.
        case backendUnreachable = "backend-unreachable"
        /// The Celery worker cannot reach its broker.
        case brokerUnreachable = "broker-unreachable"
        /// A host name does not resolve.
        case dnsFailure = "dns-failure"
        /// Its code cannot be imported.
        case importError = "import-error"
        /// It connects to localhost inside its container, where the other service is not.
        case localhostInContainer = "localhost-in-container"
        /// A required setting is missing.
        case missingSetting = "missing-setting"
        /// It ran out of memory.
        case outOfMemory = "out-of-memory"
        /// Permission was denied (a file, a socket).
        case permissionDenied = "permission-denied"
        /// Its port is already in use.
        case portInUse = "port-in-use"
        /// It writes to a read-only file system.
        case readOnlyFilesystem = "read-only-filesystem"
        /// Redis refuses the password.
        case redisAuth = "redis-auth"
        /// Redis is full and refuses writes (maxmemory).
        case redisMaxmemory = "redis-maxmemory"
        /// Redis cannot save to disk and refuses writes.
        case redisPersistence = "redis-persistence"
        /// Redis is a read-only replica and refuses writes.
        case redisReadOnly = "redis-read-only"
        /// Redis refuses connections (nothing listens on its port).
        case redisRefused = "redis-refused"
        /// The application's startup failed.
        case startupFailed = "startup-failed"
        /// An operation timed out.
        case timeout
        /// The most recent error matches no signature, the runbook's or the built-in table's.
        case unclassified
        /// The worker received a task it does not know (producer and worker code differ).
        case unregisteredTask = "unregistered-task"
    }

    /// Where the log comes from: the same sources as the `logs` kind.
    public var source: LogsProbe.Source
    /// How many lines from the end are read.
    public var tail: Int
    /// The signatures tried in order: the runbook's, then the built-in table.
    public var signatures: [LogSignature]
    /// Lines that are never the most recent error (and are not counted).
    public var ignore: Pattern?

    /// What makes a line an error line, besides a Python exception line and a traceback.
    static let detector = LineSearch(
        try! Pattern(
            #"Traceback \(most recent call last\)|ERROR|CRITICAL|FATAL|level=error|Error: |Unable to |Cannot connect|exited with"#
        ))
    /// The bytes of a line that signatures and `ignore` are matched against; bounds the cost of any expression.
    static let matchedBytes = 4096
    /// The bytes of a traceback that a signature's `context` is matched against.
    static let contextBytes = 64 * 1024
    /// The characters of a line shown in the evidence.
    static let shownCharacters = 300

    /// Builds the probe: exactly one of `service` (with `project`, `project_dir`, `compose_file`, `env_file`),
    /// `file` or `command`; `tail`, `signatures`, `ignore`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        source = try LogsProbe.Source(arguments)
        tail = try arguments.int("tail", in: 1...10_000_000) ?? 1000
        signatures = try LogSignature.list(arguments, "signatures") + LogSignature.builtIn
        ignore = try arguments.pattern("ignore")
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let timestamps: Bool
        if case .service = source { timestamps = true } else { timestamps = false }
        switch await source.read(tail: tail, timestamps: timestamps, context) {
        case .failure(let failure): return failure.observation
        case .success(let read): return judge(read, scan: LogScan(read.log.bytes, timestamps: timestamps), now: Date())
        }
    }

    /// What the source is called in summaries: the service's name, the path or the program.
    var subject: String {
        switch source {
        case .file(let path): path
        case .command(let argv): argv[0]
        case .service(let service, _): service
        }
    }

    /// Judges the scanned log.
    func judge(_ read: LogsProbe.Source.Read, scan: LogScan, now: Date) -> Observation {
        let bytes = read.log.bytes
        let started = read.container?.state.startedAt
        let age = started.flatMap(ContainerInfo.parseDockerDate).map { Self.age(now.timeIntervalSince($0)) }
        let cut = scan.lineCount >= tail
        let lines = "\(cut ? "the last " : "the ")\(scan.lineCount) line\(scan.lineCount == 1 ? "" : "s")"
        let scope = age.map { "\(lines) since \(subject) started \($0) ago" } ?? "\(lines) of \(subject)"
        let counted = started != nil && !cut ? "since start" : "in \(lines)"

        var evidence = read.notes
        let errors = scan.errors.filter { !isIgnored($0, in: bytes) }
        if let ignore, errors.count < scan.errors.count {
            let ignored = scan.errors.count - errors.count
            evidence.append("ignored: \(ignored) error line\(ignored == 1 ? "" : "s") matching /\(ignore.source)/")
        }
        let since = started.map { "since: \($0)" + (age.map { " (started \($0) ago)" } ?? "") }
        guard let last = errors.last else {
            evidence.append("0 error lines \(counted)")
            if let since { evidence.append(since) }
            return .pass("no error in \(scope)", evidence: evidence)
        }

        let match = classify(last, in: bytes)
        let same = errors.filter { error in
            if let match { return matches(match.signature, error, in: bytes) != nil }
            return bytes[error.line].elementsEqual(bytes[last.line])
        }.count
        let line = Self.shown(bytes, last.line)
        var when = last.stamp.map { "at \(String(decoding: bytes[$0], as: UTF8.self)), " } ?? ""
        if let stamp = last.stamp.flatMap({ Self.instant(String(decoding: bytes[$0], as: UTF8.self)) }),
            let start = started.flatMap(Self.instant), stamp < start
        {
            when += String(format: "%.1fs before this start (the previous run), ", start - stamp)
        }
        evidence.append("most recent error (\(when)\(same) of \(errors.count) error lines \(counted)): \(line)")
        if let lead = last.lead { evidence.append("logged after: \(Self.shown(bytes, lead))") }
        switch last.frames.count {
        case 0: break
        case 1: evidence.append("frame: \(Self.shown(bytes, last.frames[0]))")
        default:
            evidence.append("first frame: \(Self.shown(bytes, last.frames[0]))")
            evidence.append("last frame: \(Self.shown(bytes, last.frames[last.frames.count - 1]))")
        }
        if let match {
            evidence.append("signature: \(match.signature.cause) (\(match.signature.pattern.source))")
        } else {
            evidence.append("no signature matched")
        }
        if let since { evidence.append(since) }

        guard let match else {
            return .fail(
                Cause.unclassified.rawValue, "\(subject)'s most recent error matches no known signature: \(line)",
                evidence: evidence)
        }
        let quoted = Redactor.standard.redact(match.text).truncated(to: 80)
        return .fail(
            match.signature.cause, "\(subject)'s most recent error: \(match.signature.title) (\(quoted))",
            evidence: evidence)
    }

    /// The first signature the error matches, and the text it matched.
    func classify(_ error: LogScan.LogError, in bytes: [UInt8]) -> (signature: LogSignature, text: String)? {
        for signature in signatures {
            if let text = matches(signature, error, in: bytes) { return (signature, text) }
        }
        return nil
    }

    /// The text the signature matches in the error's line or in the line logged before its traceback, if any.
    func matches(_ signature: LogSignature, _ error: LogScan.LogError, in bytes: [UInt8]) -> String? {
        for candidate in [error.line] + (error.lead.map { [$0] } ?? []) {
            guard let found = signature.pattern.firstMatch(in: Self.text(bytes, candidate, limit: Self.matchedBytes))
            else { continue }
            if let context = signature.context,
                !context.matches(Self.text(bytes, error.span, limit: Self.contextBytes))
            {
                return nil
            }
            return found
        }
        return nil
    }

    /// Whether `ignore` matches the error's line, the line before its traceback or its first or last frame.
    func isIgnored(_ error: LogScan.LogError, in bytes: [UInt8]) -> Bool {
        guard let ignore else { return false }
        let shown = [error.line] + (error.lead.map { [$0] } ?? []) + error.frames
        return shown.contains { ignore.matches(Self.text(bytes, $0, limit: Self.matchedBytes)) }
    }

    /// At most `limit` bytes of a range as text.
    static func text(_ bytes: [UInt8], _ range: Range<Int>, limit: Int) -> String {
        String(decoding: bytes[range.lowerBound..<min(range.upperBound, range.lowerBound + limit)], as: UTF8.self)
    }

    /// A line for the evidence: cut, redacted, trimmed and bounded.
    static func shown(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        // The cut comes first so that redaction's expressions never see a long line; 1 KiB still holds any URL
        // whose password would be shown within the first `shownCharacters`.
        Redactor.standard.redact(text(bytes, range, limit: 1024)).trimmingWhitespace().truncated(to: shownCharacters)
    }

    /// Seconds since the epoch of a Docker RFC 3339 time, fractional seconds included.
    static func instant(_ text: String) -> Double? {
        guard let date = ContainerInfo.parseDockerDate(text) else { return nil }
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            fraction = Double("0." + digits) ?? 0
        }
        return date.timeIntervalSince1970.rounded(.down) + fraction
    }

    /// An age in its largest whole unit: `45s`, `2m`, `3h`, `2d`.
    static func age(_ seconds: TimeInterval) -> String {
        let whole = Int(max(0, seconds))
        switch whole {
        case ..<60: return "\(whole)s"
        case ..<3600: return "\(whole / 60)m"
        case ..<86_400: return "\(whole / 3600)h"
        default: return "\(whole / 86_400)d"
        }
    }
}

/// The error lines of a log, found in one pass: plain error lines and Python tracebacks.
struct LogScan {
    /// One error: a line, or a traceback ending in its exception line.
    struct LogError: Hashable {
        /// The error's line without its timestamp: the exception line of a traceback.
        var line: Range<Int>
        /// The engine's timestamp of that line, when the log has them.
        var stamp: Range<Int>?
        /// The line logged just before a traceback (`Unable to load celery application.`), if any.
        var lead: Range<Int>?
        /// A traceback's first and last `File "..."` lines.
        var frames: [Range<Int>] = []
        /// Everything the error spans, from its lead to its exception.
        var span: Range<Int>
    }

    /// The errors, oldest first.
    var errors: [LogError] = []
    /// How many lines the log has.
    var lineCount = 0

    static let header = Array("Traceback (most recent call last):".utf8)
    static let chainSentences = [
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    ].map { Array($0.utf8) }

    /// Scans the lines once; `timestamps` when each line starts with the engine's time and a space.
    init(_ bytes: [UInt8], timestamps: Bool) {
        let flagged = LogErrorsProbe.detector.matchingLines(in: bytes)
        bytes.withUnsafeBytes { buffer in
            var reader = LineReader(buffer: buffer, timestamps: timestamps)
            var next = 0
            // The last four lines' contents: enough to see a chained traceback's separator.
            var recent: [Range<Int>] = []
            func remember(_ content: Range<Int>) {
                recent.append(content)
                if recent.count > 4 { recent.removeFirst() }
            }
            while let line = reader.next() {
                lineCount += 1
                while next < flagged.count, flagged[next].lowerBound < line.whole.lowerBound { next += 1 }
                let isFlagged = next < flagged.count && flagged[next].lowerBound == line.whole.lowerBound
                if isFlagged, Self.contains(Self.header, in: buffer, line.content) {
                    let error = traceback(
                        from: line, reader: &reader, recent: recent, buffer: buffer, remember: remember)
                    errors.append(error)
                } else if isFlagged || Self.isExceptionLine(buffer, line.content) {
                    errors.append(LogError(line: line.content, stamp: line.stamp, span: line.content))
                    remember(line.content)
                } else {
                    remember(line.content)
                }
            }
        }
    }

    /// The traceback starting at its header line: frames are the indented lines below it, the exception the first
    /// line after them; a chained traceback (`During handling of the above exception...`) joins the one before.
    private mutating func traceback(
        from header: LineReader.Line, reader: inout LineReader, recent: [Range<Int>], buffer: UnsafeRawBufferPointer,
        remember: (Range<Int>) -> Void
    ) -> LogError {
        var error = LogError(line: header.content, stamp: header.stamp, span: header.content)
        let previous = errors.last
        if recent.count == 4, Self.isBlank(buffer, recent[3]), Self.isBlank(buffer, recent[1]),
            Self.chainSentences.contains(where: { Self.equals($0, buffer, recent[2]) }),
            let previous, previous.line == recent[0], previous.span != previous.line
        {
            errors.removeLast()
            error.lead = previous.lead
            error.span = previous.span
        } else if let before = recent.last, !Self.isBlank(buffer, before), !Self.isIndented(buffer, before),
            previous?.span.contains(before.lowerBound) != true || previous?.span == before
        {
            // The line logged just before the traceback introduces it; an error line there is part of this error.
            if previous?.line == before { errors.removeLast() }
            error.lead = before
            error.span = before.lowerBound..<header.content.upperBound
        }
        remember(header.content)
        var first: Range<Int>?
        var last: Range<Int>?
        while let line = reader.peek(), Self.isIndented(buffer, line.content) {
            _ = reader.next()
            lineCount += 1
            remember(line.content)
            if Self.isFrame(buffer, line.content) {
                if first == nil { first = line.content }
                last = line.content
            }
        }
        error.frames = [first, last].compactMap { $0 }
        if first == last { error.frames = first.map { [$0] } ?? [] }
        if let exception = reader.peek(), !Self.isBlank(buffer, exception.content) {
            _ = reader.next()
            lineCount += 1
            remember(exception.content)
            error.line = exception.content
            error.stamp = exception.stamp
        }
        error.span = error.span.lowerBound..<error.line.upperBound
        return error
    }

    /// Whether the line is a Python exception: `[A-Za-z0-9_.]*(Error|Exception|Exit|Interrupt)` then `: ` or its end.
    static func isExceptionLine(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        var end = line.lowerBound
        while end < line.upperBound {
            let byte = buffer[end]
            guard (byte | 0x20) &- 97 < 26 || byte &- 48 < 10 || byte == 95 || byte == 46 else { break }
            end += 1
        }
        guard end == line.upperBound || (buffer[end] == 58 && end + 1 < line.upperBound && buffer[end + 1] == 32)
        else { return false }
        let name = line.lowerBound..<end
        return ["Error", "Exception", "Exit", "Interrupt"].contains { suffix in
            suffix.utf8.count <= name.count
                && equals(Array(suffix.utf8), buffer, (end - suffix.utf8.count)..<end)
        }
    }

    /// Whether the line (indented) starts with `File "`.
    static func isFrame(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        var start = line.lowerBound
        while start < line.upperBound, buffer[start] == 32 || buffer[start] == 9 { start += 1 }
        let prefix = Array(#"File ""#.utf8)
        return start + prefix.count <= line.upperBound && equals(prefix, buffer, start..<(start + prefix.count))
    }

    static func isIndented(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        !line.isEmpty && (buffer[line.lowerBound] == 32 || buffer[line.lowerBound] == 9)
    }

    static func isBlank(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        line.allSatisfy { buffer[$0] == 32 || buffer[$0] == 9 || buffer[$0] == 13 }
    }

    /// Whether the line, less trailing white space, is these bytes.
    static func equals(_ text: [UInt8], _ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        var end = line.upperBound
        while end > line.lowerBound, buffer[end - 1] == 32 || buffer[end - 1] == 13 { end -= 1 }
        return end - line.lowerBound == text.count
            && text.indices.allSatisfy { buffer[line.lowerBound + $0] == text[$0] }
    }

    static func contains(_ needle: [UInt8], in buffer: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
        guard let base = buffer.baseAddress, line.count >= needle.count else { return false }
        return needle.withUnsafeBytes { needle in
            cprocess_memmem(base + line.lowerBound, line.count, needle.baseAddress!, needle.count) != nil
        }
    }
}

/// Reads a buffer's lines in order, splitting off the engine's timestamp when the log has them.
struct LineReader {
    /// One line.
    struct Line {
        /// The whole line, without its newline.
        var whole: Range<Int>
        /// The line after its timestamp.
        var content: Range<Int>
        /// Its timestamp, if any.
        var stamp: Range<Int>?
    }

    let buffer: UnsafeRawBufferPointer
    let timestamps: Bool
    private var position = 0

    init(buffer: UnsafeRawBufferPointer, timestamps: Bool) {
        self.buffer = buffer
        self.timestamps = timestamps
    }

    /// The next line without moving past it.
    func peek() -> Line? {
        guard position < buffer.count, let base = buffer.baseAddress else { return nil }
        let end =
            memchr(base + position, 10, buffer.count - position).map { UnsafeRawPointer($0) - base } ?? buffer.count
        var line = Line(whole: position..<end, content: position..<end)
        // `docker logs --timestamps`: `2026-11-28T12:00:00.123456789Z ` before each line.
        if timestamps, position < end, buffer[position] &- 48 < 10 {
            let limit = min(end, position + 40)
            if let space = (position..<limit).first(where: { buffer[$0] == 32 }) {
                line.stamp = position..<space
                line.content = (space + 1)..<end
            }
        }
        return line
    }

    /// The next line, moving past it.
    mutating func next() -> Line? {
        guard let line = peek() else { return nil }
        position = line.whole.upperBound + 1
        return line
    }
}

extension ProbeKind {
    /// `log-errors`: a log's most recent error, classified by cause.
    public static let logErrors = ProbeKind(
        name: "log-errors",
        optional: ComposeProject.argumentNamesBesideFile.union([
            "service", "file", "command", "tail", "signatures", "ignore",
        ])
    ) { arguments throws(ProbeArgumentError) in try LogErrorsProbe(arguments) }
}
