import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Connects to Redis, authenticates, selects the database and runs a command, speaking RESP itself.
///
/// Causes, fail (the stack is wrong): `connection-refused`, `dns-failure`, `dns-timeout`, `connect-timeout`,
/// `connect-failed`, `reply-timeout`, `connection-closed`, `connection-reset`, `auth-required`, `auth-failed`,
/// `not-redis`, `loading`, `error-reply`, `unexpected-reply`, `queue-too-long`; with `consumed_within`,
/// `not-consumed`, and for a refused canary `maxmemory-reached`, `read-only-replica`, `persistence-failing`.
/// Causes, error (the probe cannot tell): `tls-unsupported`, `cancelled`; a bad URL is `bad-argument`.
public struct RedisProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// Redis rejected the credentials.
        case authFailed = "auth-failed"
        /// Redis requires a password and none was given.
        case authRequired = "auth-required"
        /// An argument cannot be used as given (error).
        case badArgument = "bad-argument"
        /// The run was cancelled: deadline or interruption (error).
        case cancelled
        /// The server closed the connection before replying.
        case connectionClosed = "connection-closed"
        /// The connection was reset.
        case connectionReset = "connection-reset"
        /// Redis answered the command with an error.
        case errorReply = "error-reply"
        /// Redis is loading its dataset and not answering yet.
        case loading
        /// The canary's LPUSH was refused: memory is at maxmemory and the policy evicts nothing (OOM).
        case maxmemoryReached = "maxmemory-reached"
        /// The network namespace of the `in:` service cannot be entered (error).
        case namespaceDenied = "namespace-denied"
        /// No message of the queue was taken within `consumed_within`.
        case notConsumed = "not-consumed"
        /// What answers on the port does not speak RESP.
        case notRedis = "not-redis"
        /// The canary's LPUSH was refused: Redis cannot save to disk (MISCONF).
        case persistenceFailing = "persistence-failing"
        /// The queue holds more messages than `max_queue`.
        case queueTooLong = "queue-too-long"
        /// The canary's LPUSH was refused: Redis is a read-only replica (READONLY).
        case readOnlyReplica = "read-only-replica"
        /// No complete reply arrived in time.
        case replyTimeout = "reply-timeout"
        /// The URL asks for TLS (`rediss://`), which the probe does not speak (error).
        case tlsUnsupported = "tls-unsupported"
        /// The reply is not the one expected.
        case unexpectedReply = "unexpected-reply"
        /// The value (or variable) is not set, or is empty.
        case unset
    }

    /// Where to connect, and from where.
    public var endpoint: RedisEndpoint
    /// What to send and how to judge the replies; its credentials and db are those of the URL found at run time.
    public var exchange: RedisExchange
    /// Whether the queue's messages are taken, watched after the exchange passed (`consumed_within`, `canary`).
    public var consumption: RedisQueueConsumption?

    /// Builds the probe: `url` (or `in` with `url_env`), and optionally `command`, `queue`, `max_queue`,
    /// `consumed_within` and `canary`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        endpoint = try RedisEndpoint(arguments)
        let commandText = try arguments.string("command") ?? "PING"
        guard let command = RedisExchange.words(commandText) else {
            throw ProbeArgumentError(
                "command", "expected a Redis command such as PING or 'GET key', got '\(commandText)'")
        }
        let queue = try arguments.string("queue")
        let maxQueue = try arguments.int("max_queue")
        if maxQueue != nil && queue == nil {
            throw ProbeArgumentError("max_queue", "needs 'queue': the name of the list whose length is checked")
        }
        consumption = try RedisQueueConsumption(arguments, queue: queue)
        exchange = RedisExchange(
            user: endpoint.url?.user, password: endpoint.url?.password, db: endpoint.url?.db ?? 0, command: command,
            queue: queue, maxQueue: maxQueue)
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let exchange = self.exchange
        let consumption = self.consumption
        return await endpoint.run(context, kind: "redis") { url, connector in
            let authenticated = RedisExchange(
                url: url, command: exchange.command, queue: exchange.queue, maxQueue: exchange.maxQueue)
            let connection: TCPConnection
            switch connector.connect(url) {
            case .ended(let observation): return observation
            case .value(let connected): connection = connected
            }
            var observation = Self.exchange(
                authenticated, over: connection, deadline: connector.deadline,
                timeout: connector.timeout)
            observation.evidence.insert("connected to \(connection.address)", at: 0)
            guard observation.outcome == .pass, let consumption else { return observation }
            let session = RedisSession(
                connection: connection, deadline: connector.deadline, timeout: connector.timeout,
                redactor: Redactor.standard.adding([url.password].compactMap { $0 }))
            return consumption.watch(session, after: observation)
        }
    }

    /// Runs the exchange over a connection; blocking, bounded by the deadline.
    static func exchange(
        _ exchange: RedisExchange, over connection: TCPConnection, deadline: NetworkDeadline, timeout: Duration
    ) -> Observation {
        if case .failure(let failure) = connection.send(exchange.request, deadline: deadline) {
            return exchange.judge([], stoppedBy: failure, timeout: timeout)
        }
        let received = connection.receive(cap: RedisExchange.maxReplyBytes, deadline: deadline) {
            exchange.isComplete($0)
        }
        return exchange.judge(received.bytes, stoppedBy: received.failure, timeout: timeout)
    }
}

/// A `redis://[user:password@]host[:port][/db]` or `rediss://` URL.
public struct RedisURL: Sendable, Hashable {
    /// Whether the scheme is `rediss` (TLS).
    public var tls: Bool
    /// The host name or address, without brackets.
    public var host: String
    /// The port; 6379 unless given.
    public var port: Int
    /// The ACL user, if given.
    public var user: String?
    /// The password, if given; never shown.
    public var password: String?
    /// The database number; 0 unless given.
    public var db: Int

    /// Parses the URL, or says what is wrong without repeating any password.
    public init(parsing text: String) throws(ProbeArgumentError) {
        let shown = Self.masked(text)
        func bad(_ problem: String) -> ProbeArgumentError {
            ProbeArgumentError("url", "\(problem); expected redis://[user:password@]host[:port][/db], got '\(shown)'")
        }
        let trimmed = text.trimmingWhitespace()
        guard let separator = trimmed.range(of: "://") else { throw bad("no scheme") }
        switch trimmed[..<separator.lowerBound].lowercased() {
        case "redis": tls = false
        case "rediss": tls = true
        default: throw bad("the scheme must be redis or rediss")
        }
        var rest = trimmed[separator.upperBound...]
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw bad("a user needs a password: user:password@")
            }
            guard let user = String(userinfo[..<colon]).removingPercentEncoding,
                let password = String(userinfo[userinfo.index(after: colon)...]).removingPercentEncoding
            else { throw bad("bad percent-encoding in the user or password") }
            self.user = user.isEmpty ? nil : user
            self.password = password
        }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if path.isEmpty {
                db = 0
            } else {
                guard path.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(path), number <= 1_000_000 else {
                    throw bad("the database must be a number")
                }
                db = number
            }
        } else {
            authority = rest
            db = 0
        }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("unclosed [ in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after the host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !host.contains(" ") else {
            throw bad("no host")
        }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw bad("the port must be 1...65535")
            }
            port = number
        } else {
            port = 6379
        }
    }

    /// The URL as it may be shown: the password replaced by `***`.
    public var shown: String {
        let scheme = tls ? "rediss" : "redis"
        let credentials = password == nil ? "" : "\(user ?? ""):\(Redactor.mask)@"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(credentials)\(hostPart):\(port)/\(db)"
    }

    /// Any text given as a URL with everything before its last `@` after the scheme masked.
    static func masked(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let scheme = text.range(of: "://").map { String(text[..<$0.upperBound]) } ?? ""
        return scheme + Redactor.mask + text[at...]
    }
}

/// The RESP conversation of the redis probe, apart from any transport: the request bytes to send, and a
/// verdict on the raw reply bytes, however they were obtained (a socket, or a client run inside a container).
public struct RedisExchange: Sendable, Hashable {
    /// The most reply bytes read; a reply still incomplete at this size is not a Redis reply worth waiting for.
    public static let maxReplyBytes = 1 << 20

    /// The ACL user for AUTH, if any.
    public var user: String?
    /// The password for AUTH, if any.
    public var password: String?
    /// The database to SELECT (not sent for 0).
    public var db: Int
    /// The command checked, as words.
    public var command: [String]
    /// A list whose length is reported (LLEN), if any.
    public var queue: String?
    /// The longest the queue may be.
    public var maxQueue: Int?

    /// What each command of the pipeline is for, in the order sent.
    enum Purpose: Sendable, Hashable { case auth, select, info, command, queueLength }

    /// Creates an exchange.
    public init(user: String?, password: String?, db: Int, command: [String], queue: String?, maxQueue: Int?) {
        self.user = user
        self.password = password
        self.db = db
        self.command = command
        self.queue = queue
        self.maxQueue = maxQueue
    }

    /// Creates an exchange authenticating as the URL's user and selecting its db.
    public init(url: RedisURL, command: [String], queue: String?, maxQueue: Int?) {
        self.init(
            user: url.user, password: url.password, db: url.db, command: command, queue: queue, maxQueue: maxQueue)
    }

    var purposes: [Purpose] {
        (password == nil ? [] : [.auth]) + (db == 0 ? [] : [.select]) + [.info, .command]
            + (queue == nil ? [] : [.queueLength])
    }

    /// The pipelined request: AUTH, SELECT, INFO server, the command, LLEN, as needed.
    public var request: [UInt8] { purposes.flatMap { respCommand(words(for: $0)) } }

    /// The command sent for a purpose.
    func words(for purpose: Purpose) -> [String] {
        switch purpose {
        case .auth: return ["AUTH"] + (user.map { [$0] } ?? []) + [password ?? ""]
        case .select: return ["SELECT", String(db)]
        case .info: return ["INFO", "server"]
        case .command: return command
        case .queueLength: return ["LLEN", queue ?? ""]
        }
    }

    /// Whether these bytes hold every reply, or can never become a valid one: reading can stop.
    public func isComplete(_ reply: some Collection<UInt8>) -> Bool {
        let parsed = RESPParser.parseAll(reply, limit: purposes.count)
        return parsed.invalid != nil || parsed.values.count == purposes.count
    }

    var isPing: Bool { command.count == 1 && command[0].uppercased() == "PING" }

    /// Judges the reply bytes; `failure` says why they ended, if the transport stopped before they were complete.
    public func judge(_ reply: some Collection<UInt8>, stoppedBy failure: NetworkFailure?, timeout: Duration)
        -> Observation
    {
        let redactor = Redactor.standard.adding([password].compactMap { $0 })
        let purposes = self.purposes
        let parsed = RESPParser.parseAll(reply, limit: purposes.count)
        var evidence: [String] = []
        let name = redactor.redact(command.joined(separator: " ")).truncated(to: 80)

        for (purpose, value) in zip(purposes, parsed.values) {
            let shown = redactor.redact(value.shown)
            if let refusal = refusal(value, for: purpose, redactor: redactor, evidence: evidence) { return refusal }
            switch purpose {
            case .auth:
                break
            case .select:
                evidence.append("db: \(db)")
            case .info:
                if let version = value.text.flatMap(Self.version(inInfo:)) {
                    evidence.append("server: redis \(version)")
                }
                if db == 0 { evidence.append("db: 0") }
            case .command:
                evidence.append("\(name) -> \(shown)")
                if case .error(let message) = value {
                    if let refusal = RedisProbe.writeRefusal(message) {
                        return .fail(refusal.cause.rawValue, "\(name) refused: \(refusal.meaning)", evidence: evidence)
                    }
                    return .fail(
                        RedisProbe.Cause.errorReply.rawValue,
                        "\(name) failed: \(redactor.redact(message).truncated(to: 120))",
                        evidence: evidence)
                }
                if isPing && value.text?.uppercased() != "PONG" {
                    return .fail(
                        RedisProbe.Cause.unexpectedReply.rawValue, "PING was answered with \(shown), not PONG",
                        evidence: evidence)
                }
            case .queueLength:
                let queue = self.queue ?? ""
                evidence.append("LLEN \(queue) -> \(shown)")
                guard case .integer(let length) = value else {
                    return .fail(
                        RedisProbe.Cause.errorReply.rawValue, "LLEN \(queue) failed: \(shown)", evidence: evidence)
                }
                if let maxQueue, length > maxQueue {
                    return .fail(
                        RedisProbe.Cause.queueTooLong.rawValue,
                        "queue '\(queue)' holds \(length) messages, more than \(maxQueue): nothing seems to consume it",
                        evidence: evidence)
                }
            }
        }

        if parsed.invalid != nil || parsed.values.count < purposes.count {
            return Self.unfinished(
                reply, invalid: parsed.invalid, failure: failure, timeout: timeout, evidence: evidence)
        }
        let version = evidence.first { $0.hasPrefix("server: ") }.map { " (" + $0.dropFirst(8) + ")" } ?? ""
        let answer = parsed.values[purposes.firstIndex(of: .command) ?? 0]
        return .pass("\(name) -> \(redactor.redact(answer.shown).truncated(to: 80))\(version)", evidence: evidence)
    }

    /// The verdict on a reply that refuses the whole conversation: LOADING, a rejected AUTH, NOAUTH; nil otherwise.
    /// `label` names the command in the evidence when it is not the exchange's own.
    func refusal(
        _ value: RESPValue, for purpose: Purpose, label: String? = nil, redactor: Redactor, evidence: [String]
    ) -> Observation? {
        guard case .error(let message) = value else { return nil }
        let shown = redactor.redact(value.shown)
        let upper = message.uppercased()
        if upper.hasPrefix("LOADING") {
            return .fail(
                RedisProbe.Cause.loading.rawValue, "Redis is loading its dataset into memory and refuses commands",
                evidence: evidence + [shown])
        }
        if purpose == .auth {
            return .fail(
                RedisProbe.Cause.authFailed.rawValue, "Redis rejected the credentials: \(redactor.redact(message))",
                evidence: evidence + ["AUTH -> \(shown)"])
        }
        if upper.hasPrefix("NOAUTH") {
            let name = redactor.redact(command.joined(separator: " ")).truncated(to: 80)
            return .fail(
                RedisProbe.Cause.authRequired.rawValue, "Redis requires a password and the URL gives none",
                evidence: evidence + ["\(label ?? self.label(purpose, command: name)) -> \(shown)"])
        }
        if purpose == .select {
            return .fail(
                RedisProbe.Cause.errorReply.rawValue, "SELECT \(db) failed: \(redactor.redact(message))",
                evidence: evidence + ["SELECT \(db) -> \(shown)"])
        }
        return nil
    }

    /// The verdict on replies that stopped before all arrived, or that are not RESP (`invalid` says why).
    static func unfinished(
        _ reply: some Collection<UInt8>, invalid: String?, failure: NetworkFailure?, timeout: Duration,
        evidence: [String]
    ) -> Observation {
        if let reason = invalid {
            return .fail(
                RedisProbe.Cause.notRedis.rawValue, "the server's reply is not Redis (RESP): \(reason)",
                evidence: evidence + ["reply starts: \(Self.printable(reply.prefix(80)))"])
        }
        let got = reply.isEmpty ? "no reply" : "an incomplete reply (\(reply.count) bytes)"
        let start = reply.isEmpty ? [] : ["reply starts: \(Self.printable(reply.prefix(80)))"]
        switch failure {
        case .replyTimeout?:
            return .fail(
                RedisProbe.Cause.replyTimeout.rawValue,
                "the server accepted the connection but sent \(got) within \(timeout.shortDescription)",
                evidence: evidence + start)
        case .cancelled?:
            return .error(
                RedisProbe.Cause.cancelled.rawValue, "the run was cancelled while waiting for Redis",
                evidence: evidence + start)
        case .broken(let message)?:
            return .fail(
                RedisProbe.Cause.connectionReset.rawValue, "the connection broke after \(got): \(message)",
                evidence: evidence + start)
        case nil where reply.count >= Self.maxReplyBytes:
            return .fail(
                RedisProbe.Cause.notRedis.rawValue, "the reply exceeds \(Self.maxReplyBytes) bytes without completing",
                evidence: evidence + start)
        default:
            return .fail(
                RedisProbe.Cause.connectionClosed.rawValue, "the server closed the connection after \(got)",
                evidence: evidence + start)
        }
    }

    /// The command sent for a purpose, as shown in the evidence.
    func label(_ purpose: Purpose, command name: String) -> String {
        switch purpose {
        case .auth: return "AUTH"
        case .select: return "SELECT \(db)"
        case .info: return "INFO server"
        case .command: return name
        case .queueLength: return "LLEN \(queue ?? "")"
        }
    }

    /// `redis_version` from the text of `INFO server`.
    static func version(inInfo text: String) -> String? {
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" })
        where line.hasPrefix("redis_version:") {
            return String(line.dropFirst("redis_version:".count)).trimmingWhitespace()
        }
        return nil
    }

    /// Bytes as text, with anything not printable ASCII escaped.
    static func printable(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            switch byte {
            case 0x0d: return "\\r"
            case 0x0a: return "\\n"
            case 0x20..<0x7f: return String(UnicodeScalar(byte))
            default: return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }.joined()
    }

    /// A command line split into words; double or single quotes group words. Nil when empty or unbalanced.
    public static func words(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil else { return nil }
        if inWord { words.append(current) }
        return words.isEmpty ? nil : words
    }
}

extension ProbeKind {
    /// `redis`: connects, authenticates and runs a command (PING by default), optionally checking a queue's length
    /// and that its messages are consumed.
    public static let redis = ProbeKind(
        name: "redis",
        optional: RedisEndpoint.argumentNames.union([
            "command", "queue", "max_queue", "consumed_within", "canary", "canary_result",
        ])
    ) { arguments throws(ProbeArgumentError) in try RedisProbe(arguments) }
}

extension RedisProbe {
    /// What an error reply says when Redis refuses writes (and with MISCONF, even PING): its cause and meaning.
    static func writeRefusal(_ message: String) -> (cause: RedisProbe.Cause, meaning: String)? {
        switch message.prefix(while: { $0 != " " }).uppercased() {
        case "OOM":
            (.maxmemoryReached, "Redis refuses writes: memory is at maxmemory and the policy evicts nothing (OOM)")
        case "READONLY": (.readOnlyReplica, "Redis is a read-only replica (READONLY)")
        case "MISCONF": (.persistenceFailing, "Redis refuses writes because it cannot save to disk (MISCONF)")
        default: nil
        }
    }
}
