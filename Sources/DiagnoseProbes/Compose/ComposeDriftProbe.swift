import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Settings that compose services must agree on, compared from their containers: one variable across two or more
/// services (a URL field by field), or the Celery queue a worker consumes against the one its producer enqueues to.
///
/// Causes: `differs`, `unset`, `queue-mismatch` (fail); `not-created`, `not-celery`, `unknown-service`, `invalid`,
/// `docker-missing`, `engine-unreachable`, `docker-error`, `cancelled` (error). Passwords and the values of
/// secret-looking names are only ever said to be the same or to differ.
public struct ComposeDriftProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The services' values differ (for a URL: in one of its fields).
        case differs
        /// A worker's command line runs no `celery`, so its queues cannot be read (error).
        case notCelery = "not-celery"
        /// A worker does not consume the queue the producer enqueues to.
        case queueMismatch = "queue-mismatch"
        /// The variable is unset in some or all of the services.
        case unset
    }

    /// What is compared.
    public enum Check: Sendable, Hashable {
        /// One variable across the services, as a URL or as text (nil: a URL when every value parses as one).
        case variable(String, form: Form?)
        /// The queue the producer enqueues to, against each worker's `-Q`/`--queues`.
        case celeryQueue(String)
    }

    /// How a variable's values are compared.
    public enum Form: String, Sendable, Hashable {
        /// Field by field: scheme, host, port, database, user, password, query.
        case url
        /// As whole strings.
        case text
    }

    /// The services compared.
    public var services: [String]
    /// What is compared.
    public var check: Check
    /// Where variables are read: the containers, or the resolved compose configuration.
    public var origin: ComposeEnvProbe.Origin
    /// Their project.
    public var selector: ComposeProject.Selector

    /// Builds the probe from `services` and exactly one of `variable` (with `as`, `from`) or `celery_queue`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        var services: [String] = []
        for service in try arguments.strings("services") ?? [] {
            let name = service.trimmingWhitespace()
            if !name.isEmpty && !services.contains(name) { services.append(name) }
        }
        self.services = services
        selector = try ComposeProject.Selector(arguments)
        origin =
            try arguments.choice("from", ["container", "config"]).flatMap(ComposeEnvProbe.Origin.init) ?? .container
        let form = try arguments.choice("as", ["url", "text"]).flatMap(Form.init(rawValue:))
        switch (try arguments.string("variable"), try arguments.string("celery_queue")) {
        case (let variable?, nil):
            guard services.count >= 2 else {
                throw ProbeArgumentError("services", "give two or more services to compare \(variable) across")
            }
            check = .variable(variable, form: form)
        case (nil, let queue?):
            guard !services.isEmpty else { throw ProbeArgumentError("services", "give the worker service(s)") }
            guard form == nil, !arguments.has("from") else {
                throw ProbeArgumentError("", "'as' and 'from' go with 'variable', not with 'celery_queue'")
            }
            check = .celeryQueue(queue)
        default:
            throw ProbeArgumentError("", "give exactly one of 'variable' or 'celery_queue'")
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        switch check {
        case .variable(let name, let form): return await compare(name, form: form, context)
        case .celeryQueue(let queue): return await checkQueue(queue, context)
        }
    }

    // MARK: A variable across services

    /// One service's value and where it was read.
    struct Reading {
        var service: String
        var value: String?
        /// `backend (diagnose-lab-backend)`, `worker (diagnose-lab-worker, stopped)`.
        var place: String
    }

    func read(_ name: String, _ context: ProbeContext) async -> ([Reading], Observation?) {
        let project = context.compose.project(selector)
        var readings: [Reading] = []
        switch origin {
        case .container:
            let state: ProjectState
            switch await context.compose.state(of: project.name, cancellation: context.cancellation) {
            case .failure(let error): return ([], error.observation)
            case .success(let found): state = found
            }
            for service in services {
                guard let container = state.containers(of: service).first else {
                    return ([], ComposeError.notCreated(service: service, project: project.name).observation)
                }
                // A stopped container's environment is still what it ran (and will run) with.
                let stopped = container.isRunning ? "" : ", \(container.state.status)"
                readings.append(
                    Reading(
                        service: service, value: container.environmentValue(name),
                        place: "\(service) (\(container.name)\(stopped))"))
            }
        case .config:
            let output: ComposeConfigOutput
            switch await context.compose.config(
                of: project, timeout: context.timeout, cancellation: context.cancellation)
            {
            case .failure(let error): return ([], error.observation)
            case .success(let found): output = found
            }
            for service in services {
                switch ComposeEnvProbe.environment(of: service, in: output) {
                case .unusable(let observation): return ([], observation)
                case .found(let environment):
                    readings.append(Reading(service: service, value: environment[name], place: "\(service) (config)"))
                }
            }
        }
        return (readings, nil)
    }

    func compare(_ name: String, form: Form?, _ context: ProbeContext) async -> Observation {
        let (readings, failure) = await read(name, context)
        if let failure { return failure }
        let among = Self.sentence(services)
        var evidence = ["read from: " + readings.map(\.place).joined(separator: ", ")]
        let unset = readings.filter { $0.value == nil }
        guard unset.isEmpty else {
            let set = readings.filter { $0.value != nil }
            if set.isEmpty {
                return .fail(Cause.unset.rawValue, "\(name) is set in none of \(among)", evidence: evidence)
            }
            evidence.append("set in: " + set.map(\.service).joined(separator: ", "))
            evidence.append("unset in: " + unset.map(\.service).joined(separator: ", "))
            return .fail(
                Cause.unset.rawValue,
                "\(name) is set in \(Self.sentence(set.map(\.service))) but not in \(Self.sentence(unset.map(\.service)))",
                evidence: evidence)
        }
        let values = readings.map { $0.value ?? "" }
        let urls = values.map(URLFields.init(parsing:))
        let asURL = form == .url || (form == nil && urls.allSatisfy { $0 != nil })
        var differing: [String] = []
        var same: [String] = []
        if asURL {
            let notURLs = zip(readings, urls).filter { $0.1 == nil }.map(\.0.service)
            if !notURLs.isEmpty {
                evidence.append("not a URL in: " + notURLs.joined(separator: ", "))
                differing.append("form")
            }
            let parsed = urls.compactMap { $0 }
            let parsedServices = zip(readings, urls).filter { $0.1 != nil }.map(\.0.service)
            for field in URLFields.Field.allCases where !parsed.isEmpty {
                let fieldValues = parsed.map { $0[field] }
                if Set(fieldValues).count == 1 {
                    // A field no URL has (no user, no query) is not worth naming.
                    if fieldValues[0] != nil { same.append(field.rawValue) }
                } else {
                    differing.append(field.rawValue)
                    evidence.append(Self.line(field, fieldValues, services: parsedServices))
                }
            }
        } else if Set(values).count == 1 {
            same.append("value")
        } else {
            differing.append("value")
            evidence.append(
                Redactor.isSecretName(name)
                    ? "value: differs"
                    : "value: "
                        + zip(services, values).map { "\($0) '\(Redactor.standard.redact($1).truncated(to: 120))'" }
                        .joined(separator: ", "))
        }
        if !same.isEmpty { evidence.append("same: " + same.joined(separator: ", ")) }
        guard differing.isEmpty else {
            return .fail(
                Cause.differs.rawValue, "\(name) differs between \(among): \(differing.joined(separator: ", "))",
                evidence: evidence)
        }
        return .pass(
            "\(name) agrees across \(among)" + (asURL ? ": same \(same.joined(separator: ", "))" : ""),
            evidence: evidence)
    }

    /// `database: backend 0, worker 1`; secrets only as `differs`.
    static func line(_ field: URLFields.Field, _ values: [String?], services: [String]) -> String {
        switch field {
        case .password, .query:
            let missing = zip(services, values).filter { $0.1 == nil }.map(\.0)
            return "\(field.rawValue): differs"
                + (missing.isEmpty ? "" : " (none in \(missing.joined(separator: ", ")))")
        default:
            return "\(field.rawValue): "
                + zip(services, values).map {
                    "\($0) \($1.map { Redactor.standard.redact($0).truncated(to: 80) } ?? "(none)")"
                }
                .joined(separator: ", ")
        }
    }

    /// `a`, `a and b`, `a, b and c`.
    static func sentence(_ items: [String]) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }

    // MARK: The Celery queue

    func checkQueue(_ queue: String, _ context: ProbeContext) async -> Observation {
        let project = context.compose.project(selector)
        let state: ProjectState
        switch await context.compose.state(of: project.name, cancellation: context.cancellation) {
        case .failure(let error): return error.observation
        case .success(let found): state = found
        }
        var passed: [Observation] = []
        for service in services {
            guard let container = state.containers(of: service).first else {
                return ComposeError.notCreated(service: service, project: project.name).observation
            }
            let observation = judgeQueue(queue, service: service, container)
            if observation.outcome != .pass { return observation }
            passed.append(observation)
        }
        return passed.count == 1
            ? passed[0] : .pass(passed.map(\.summary).joined(separator: "; "), evidence: passed.flatMap(\.evidence))
    }

    func judgeQueue(_ queue: String, service: String, _ container: ContainerInfo) -> Observation {
        let stopped = container.isRunning ? "" : ", \(container.state.status)"
        let name = "service '\(service)' (\(container.name)\(stopped))"
        let command = container.commandLine
        let evidence = ["command: " + Redactor.standard.redact(command.joined(separator: " ")).truncated(to: 300)]
        guard let options = CeleryQueues(command: command) else {
            return .error(
                Cause.notCelery.rawValue,
                "\(name) does not run celery on its command line, so the queues it consumes cannot be read there",
                evidence: evidence)
        }
        if options.excluded.contains(queue) {
            return .fail(
                Cause.queueMismatch.rawValue,
                "\(name) excludes queue '\(queue)' (-X), the queue the producer enqueues to",
                evidence: evidence + ["the worker excludes '\(queue)'; the producer enqueues to '\(queue)'"])
        }
        guard let queues = options.queues else {
            return queue == CeleryQueues.defaultQueue
                ? .pass("\(name) consumes '\(queue)' (no -Q: Celery's default queue)", evidence: evidence)
                : .fail(
                    Cause.queueMismatch.rawValue,
                    "\(name) consumes only Celery's default queue 'celery' (no -Q), not '\(queue)'",
                    evidence: evidence + ["the worker consumes 'celery'; the producer enqueues to '\(queue)'"])
        }
        let shown = queues.map { "'\($0)'" }.joined(separator: ", ")
        guard queues.contains(queue) else {
            return .fail(
                Cause.queueMismatch.rawValue,
                "\(name) does not consume queue '\(queue)': it runs with -Q \(queues.joined(separator: ","))",
                evidence: evidence + ["the worker consumes \(shown); the producer enqueues to '\(queue)'"])
        }
        return .pass("\(name) consumes '\(queue)' among \(shown)", evidence: evidence)
    }
}

/// A URL's fields as two services' settings are compared: scheme, host, port, database, user, password, query.
struct URLFields: Hashable {
    /// The compared fields, in the order the evidence names them.
    enum Field: String, CaseIterable {
        case scheme, host, port, database, user, password, query
    }

    var values: [Field: String]

    subscript(field: Field) -> String? { values[field] }

    /// Ports schemes imply when the URL gives none, so `redis://redis` and `redis://redis:6379` agree.
    static let defaultPorts = [
        "redis": "6379", "rediss": "6379", "http": "80", "https": "443", "amqp": "5672", "amqps": "5671",
        "postgres": "5432", "postgresql": "5432", "mysql": "3306", "mongodb": "27017",
    ]

    /// Parses `scheme://[user[:password]@]host[:port][/path][?query]`; nil when the text is no such URL.
    init?(parsing text: String) {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
        else { return nil }
        let rest = text[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var remainder = rest[authority.endIndex...]
        if let fragment = remainder.firstIndex(of: "#") { remainder = remainder[..<fragment] }
        var values: [Field: String] = [.scheme: scheme]
        var hostPort = authority[...]
        // The password runs to the last '@' of the authority, as URL parsers read it (see Redactor.urlPassword).
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let colon = userinfo.firstIndex(of: ":")
            let user = userinfo[..<(colon ?? userinfo.endIndex)]
            if !user.isEmpty { values[.user] = String(user) }
            if let colon, userinfo.index(after: colon) < userinfo.endIndex {
                values[.password] = String(userinfo[userinfo.index(after: colon)...])
            }
        }
        var host = hostPort
        var port: Substring = ""
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = hostPort[...close]
            port = hostPort[hostPort.index(after: close)...].drop { $0 == ":" }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = hostPort[hostPort.index(after: colon)...]
        }
        guard port.allSatisfy(\.isNumber) else { return nil }
        values[.host] = host.lowercased()
        values[.port] = port.isEmpty ? Self.defaultPorts[scheme] : String(Int(port) ?? 0)
        let path = remainder.prefix { $0 != "?" }
        var database = path.drop { $0 == "/" }
        while database.hasSuffix("/") { database = database.dropLast() }
        // Redis selects database 0 when the URL names none.
        values[.database] = database.isEmpty ? (scheme.hasPrefix("redis") ? "0" : nil) : String(database)
        let query = remainder.drop { $0 != "?" }.dropFirst()
        if !query.isEmpty { values[.query] = String(query) }
        self.values = values
    }
}

/// The queues a Celery worker's command line says it consumes (`-Q`/`--queues`) and excludes (`-X`).
struct CeleryQueues {
    /// The queue Celery sends to and consumes when none is configured.
    static let defaultQueue = "celery"

    /// The queues of the last `-Q`/`--queues` (as Celery's option parser keeps the last), nil when none is given.
    var queues: [String]?
    /// The queues of `-X`/`--exclude-queues`.
    var excluded: [String] = []

    /// Reads the options after the `celery` program; nil when the command line runs no `celery`.
    ///
    /// A shell form (`sh -c "celery -A app worker -Q a"`) is split on white space, so its words count too.
    init?(command: [String]) {
        let words = command.flatMap { $0.split(whereSeparator: \.isWhitespace) }.map {
            $0.trimmingCharacters(in: ["'", "\""])
        }
        guard let start = words.firstIndex(where: { $0.split(separator: "/").last == "celery" }) else { return nil }
        var index = start + 1
        func list(_ text: some StringProtocol) -> [String] {
            text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        while index < words.count {
            let word = words[index]
            let next = index + 1 < words.count ? words[index + 1] : ""
            switch word {
            case "-Q", "--queues":
                queues = list(next)
                index += 1
            case "-X", "--exclude-queues":
                excluded += list(next)
                index += 1
            case _ where word.hasPrefix("--queues="): queues = list(word.dropFirst("--queues=".count))
            case _ where word.hasPrefix("--exclude-queues="):
                excluded += list(word.dropFirst("--exclude-queues=".count))
            case _ where word.hasPrefix("-Q"): queues = list(word.dropFirst(2).drop { $0 == "=" })
            case _ where word.hasPrefix("-X"): excluded += list(word.dropFirst(2).drop { $0 == "=" })
            default: break
            }
            index += 1
        }
    }
}

extension ProbeKind {
    /// `compose-drift`: services agree on a variable (field by field for URLs), or a worker consumes the queue.
    public static let composeDrift = ProbeKind(
        name: "compose-drift", required: ["services"],
        optional: ComposeProject.argumentNames.union(["variable", "celery_queue", "as", "from"])
    ) { arguments throws(ProbeArgumentError) in try ComposeDriftProbe(arguments) }
}
