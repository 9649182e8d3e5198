import DiagnosePlatform

/// A known error message and the cause it stands for, as the `log-errors` probe classifies errors.
public struct LogSignature: Sendable, Hashable {
    /// What the error's line (or the line logged just before its traceback) must match.
    public var pattern: Pattern
    /// The cause reported, e.g. `redis-auth`.
    public var cause: String
    /// The cause in words, for the summary: `Redis refuses the password`.
    public var title: String
    /// What the error's lines must also mention somewhere (its traceback included), if anything.
    public var context: Pattern?

    /// Creates a signature.
    public init(pattern: Pattern, cause: String, title: String, context: Pattern? = nil) {
        self.pattern = pattern
        self.cause = cause
        self.title = title
        self.context = context
    }

    /// The keys a runbook's signature may have.
    static let keys: Set<String> = ["pattern", "cause", "title", "context"]

    /// The runbook's `signatures`: a list of `{pattern, cause, title, context}` maps; `pattern` and `cause` are
    /// required, every expression must compile. Errors name the entry's key (`signatures.2.pattern`, from 0).
    static func list(_ arguments: ProbeArguments, _ name: String) throws(ProbeArgumentError) -> [LogSignature] {
        guard let value = arguments.values[name] else { return [] }
        guard case .list(let items) = value else {
            throw ProbeArgumentError(name, "expected a list of {pattern, cause, title} maps")
        }
        var signatures: [LogSignature] = []
        for (index, item) in items.enumerated() {
            do {
                signatures.append(try LogSignature(item))
            } catch {
                throw error.nested(under: "\(name).\(index)")
            }
        }
        return signatures
    }

    /// One runbook signature; errors name its key.
    init(_ item: ArgumentValue) throws(ProbeArgumentError) {
        guard case .map(let entries) = item else {
            throw ProbeArgumentError("", "expected a map with 'pattern', 'cause' and optionally 'title', 'context'")
        }
        if let unknown = entries.keys.sorted().first(where: { !Self.keys.contains($0) }) {
            throw ProbeArgumentError(
                unknown, "unknown key; a signature has \(Self.keys.sorted().joined(separator: ", "))")
        }
        let fields = ProbeArguments(entries)
        guard let pattern = try fields.pattern("pattern") else { throw ProbeArgumentError("pattern", "is required") }
        guard let cause = try fields.string("cause")?.trimmingWhitespace(), !cause.isEmpty else {
            throw ProbeArgumentError("cause", "is required")
        }
        guard cause.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ProbeArgumentError(
                "cause", "'\(cause)' must be a plain name (letters, digits, '-', '_'), as 'on.fail' routes it")
        }
        let title = try fields.string("title")?.trimmingWhitespace() ?? ""
        self.init(
            pattern: pattern, cause: cause, title: title.isEmpty ? cause : title, context: try fields.pattern("context")
        )
    }
}

extension ProbeArgumentError {
    /// The same problem, one level deeper in a nested argument (`pattern` becomes `signatures.2.pattern`).
    func nested(under path: String) -> ProbeArgumentError {
        ProbeArgumentError(argument.isEmpty ? path : "\(path).\(argument)", message)
    }
}

extension LogSignature {
    /// Built-in signatures are source literals checked by the tests; a typo is a bug, not a runbook error.
    private static func make(
        _ cause: LogErrorsProbe.Cause, _ title: String, _ pattern: String, context: String? = nil
    ) -> LogSignature {
        LogSignature(
            pattern: try! Pattern(pattern), cause: cause.rawValue, title: title,
            context: context.map { try! Pattern($0) })
    }

    /// The built-in table, in the order tried: the first match wins, after the runbook's own signatures.
    ///
    /// The specific causes come before the general ones, so that a line which says why (`consumer: Cannot connect
    /// to redis://...: Authentication required.`) is classified by the why, not by the broker being unreachable.
    public static let builtIn: [LogSignature] = [
        make(
            .redisAuth, "Redis refuses the password",
            "Authentication required|NOAUTH|WRONGPASS|invalid username-password|invalid password|called without any password configured"
        ),
        make(.redisMaxmemory, "Redis is full and refuses writes (maxmemory)", "OOM command not allowed"),
        make(
            .redisReadOnly, "Redis is a read-only replica and refuses writes",
            "READONLY You can't write against a read only replica|ReadOnlyError"),
        make(.redisPersistence, "Redis cannot save to disk and refuses writes", "MISCONF"),
        make(
            .dnsFailure, "a host name does not resolve",
            "Temporary failure in name resolution|Name or service not known|Error -[23] connecting|nodename nor servname"
        ),
        make(
            .redisRefused, "Redis refuses connections (nothing listens on its port)",
            "Error 111 connecting to|Connection refused", context: "(?i)redis|kombu"),
        make(
            .localhostInContainer, "it connects to localhost inside its container, where the other service is not",
            #"Errno 99\b|Cannot assign requested address"#),
        make(.portInUse, "its port is already in use", #"address already in use|Errno 98\b"#),
        make(
            .importError, "its code cannot be imported",
            "ModuleNotFoundError|ImportError|Unable to load celery application|Error loading ASGI app|Could not import module"
        ),
        make(
            .missingSetting, "a required setting is missing",
            "KeyError: '[A-Z_][A-Z0-9_]*'|validation error for Settings|field required"),
        make(.readOnlyFilesystem, "it writes to a read-only file system", #"Read-only file system|Errno 30\b"#),
        make(.permissionDenied, "permission denied", #"Permission denied|Errno 13\b"#),
        make(.outOfMemory, "it ran out of memory", "MemoryError|Cannot allocate memory"),
        make(
            .unregisteredTask, "the worker received a task it does not know (producer and worker code differ)",
            "Received unregistered task"),
        make(
            .brokerUnreachable, "the Celery worker cannot reach its broker",
            "Connection to broker lost|consumer: Cannot connect"),
        make(.timeout, "an operation timed out", "timed out|TimeoutError|ReadTimeout|ConnectTimeout"),
        make(
            .appException, "the Streamlit app raised an exception",
            #"Uncaught app exception|StreamlitAPIException|streamlit\.errors"#),
        make(.backendUnreachable, "the frontend cannot reach the backend", "Failed to connect to backend"),
        make(.startupFailed, "the application's startup failed", "Application startup failed"),
    ]
}
