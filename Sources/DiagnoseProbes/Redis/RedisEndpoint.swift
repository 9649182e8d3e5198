import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Where a Redis probe connects and from where: a `url`, or `in: SERVICE` with `url_env: VARIABLE` read from that
/// container's environment, plus the compose project arguments. Shared by every probe kind that talks to Redis.
public struct RedisEndpoint: Sendable {
    /// The arguments this part of a probe reads.
    public static let argumentNames = ComposeProject.argumentNames.union(["url", "in", "url_env"])

    /// Where to connect and as whom; nil when the URL is read from the container's environment (`url_env`).
    public var url: RedisURL?
    /// The compose service whose container the probe connects from (`in:`), if any.
    public var service: String?
    /// The variable of that container's environment holding the URL (`url_env:`), if any.
    public var urlEnvironmentVariable: String?
    /// Which compose project `in:` refers to.
    var selector: ComposeProject.Selector

    /// Reads `url` (or `in` with `url_env`) and the compose project arguments.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        service = try arguments.string("in")
        urlEnvironmentVariable = try arguments.string("url_env")
        selector = try ComposeProject.Selector(arguments)
        if service == nil,
            let extra = (ComposeProject.argumentNames.union(["url_env"])).sorted().first(where: arguments.has)
        {
            throw ProbeArgumentError(extra, "only applies with 'in: SERVICE'")
        }
        switch (try arguments.string("url"), urlEnvironmentVariable) {
        case (let text?, nil): url = try RedisURL(parsing: text)
        case (nil, .some): url = nil
        case (.some, .some): throw ProbeArgumentError("", "give either 'url' or 'url_env', not both")
        case (nil, nil): throw ProbeArgumentError("url", "is required (or, with 'in:', 'url_env: VARIABLE')")
        }
    }

    /// Finds the URL (in the container's environment for `url_env`), then runs `work` on a thread of its own,
    /// inside the container's network namespace for `in:`, bounded by the step's timeout. The evidence starts with
    /// where the probe stood and the URL (password masked), and ends with the time taken.
    func run(
        _ context: ProbeContext, kind: String,
        _ work: @escaping @Sendable (RedisURL, RedisConnector) -> Observation
    ) async -> Observation {
        let (vantage, refusal) = await ContainerVantage.standpoint(service, selector: selector, context: context)
        if let refusal { return refusal }
        var url = self.url
        var origin: [String] = vantage.map { [$0.description] } ?? []
        if let variable = urlEnvironmentVariable, let vantage {
            guard let value = vantage.container.environmentValue(variable), !value.isEmpty else {
                return .fail(
                    RedisProbe.Cause.unset.rawValue,
                    "\(variable) is not set in the environment of \(vantage.container.name)", evidence: origin)
            }
            do {
                url = try RedisURL(parsing: value)
                origin.append("url from \(variable) of \(vantage.container.name)")
            } catch {
                return .error(
                    RedisProbe.Cause.badArgument.rawValue,
                    "\(variable) of \(vantage.container.name) is not a Redis URL: \(error.message)",
                    evidence: origin)
            }
        }
        guard let url else { return .error(RedisProbe.Cause.badArgument.rawValue, "no Redis URL") }
        let target = url.shown
        guard !url.tls else {
            return .error(
                RedisProbe.Cause.tlsUnsupported.rawValue,
                "\(target) asks for TLS, which the \(kind) probe does not speak",
                evidence: ["url: \(target)"])
        }
        let shownOrigin = origin
        let standpoint = vantage
        return await NetworkDeadline.offloaded(context) { deadline in
            let clock = ContinuousClock()
            let began = clock.now
            if let standpoint, let problem = standpoint.enter() {
                return .error(RedisProbe.Cause.namespaceDenied.rawValue, problem, evidence: shownOrigin)
            }
            let connector = RedisConnector(
                deadline: deadline, timeout: context.timeout, resolve: standpoint.map { $0.resolve } ?? Resolver.resolve
            )
            var observation = work(url, connector)
            observation.evidence.insert(contentsOf: shownOrigin + ["url: \(target)"], at: 0)
            observation.evidence.append("time: \(began.duration(to: clock.now).milliseconds)ms")
            return observation
        }
    }
}

/// What a step of a Redis conversation gives: a value, or the observation that ends the probe.
enum RedisStep<Value> {
    /// The step went through.
    case value(Value)
    /// The probe ends with this observation (a refused connection, a reply that never came, ...).
    case ended(Observation)
}

/// Opens TCP connections to Redis within a deadline, resolving names the way the probe's standpoint does.
struct RedisConnector {
    /// When the work must end.
    var deadline: NetworkDeadline
    /// The step's timeout, for messages.
    var timeout: Duration
    /// How host names resolve (on the host, or on the compose network for `in:`).
    var resolve: @Sendable (String, Int, NetworkDeadline) -> Result<[SocketAddress], NetworkFailure>

    /// A connection to the URL's host and port, or the observation of why there is none.
    func connect(_ url: RedisURL) -> RedisStep<TCPConnection> {
        let addresses: [SocketAddress]
        switch resolve(url.host, url.port, deadline) {
        case .success(let found): addresses = found
        case .failure(let failure):
            return .ended(TCPProbe.observation(failure, host: url.host, port: url.port, timeout: timeout))
        }
        var attempts: [String] = []
        switch TCPConnection.connect(to: addresses, deadline: deadline, attempts: &attempts) {
        case .success(let connected): return .value(connected)
        case .failure(let failure):
            var observation = TCPProbe.observation(failure, host: url.host, port: url.port, timeout: timeout)
            observation.evidence += attempts
            return .ended(observation)
        }
    }
}

/// A conversation with Redis over one connection in several round trips, each bounded by the deadline. A reply
/// that does not arrive in full, or is not RESP, ends the conversation with the redis probe's causes.
final class RedisSession {
    /// The connection, already past AUTH and SELECT once `open` returned it.
    let connection: TCPConnection
    /// When the work must end.
    let deadline: NetworkDeadline
    /// The step's timeout, for messages.
    let timeout: Duration
    /// Hides the password in anything shown.
    let redactor: Redactor

    init(connection: TCPConnection, deadline: NetworkDeadline, timeout: Duration, redactor: Redactor) {
        self.connection = connection
        self.deadline = deadline
        self.timeout = timeout
        self.redactor = redactor
    }

    /// Connects, and sends AUTH and SELECT as the URL asks pipelined before `commands`. Returns the session and the
    /// replies to `commands`, or the observation of a failed connection, a refused AUTH, a bad db or LOADING.
    /// The evidence given to `commands`' judge starts with `connected to ADDRESS` and `db: N`.
    static func open(
        _ url: RedisURL, connector: RedisConnector, then commands: [[String]]
    ) -> RedisStep<(RedisSession, [RESPValue], evidence: [String])> {
        let connection: TCPConnection
        switch connector.connect(url) {
        case .ended(let observation): return .ended(observation)
        case .value(let connected): connection = connected
        }
        let exchange = RedisExchange(url: url, command: [], queue: nil, maxQueue: nil)
        let session = RedisSession(
            connection: connection, deadline: connector.deadline, timeout: connector.timeout,
            redactor: Redactor.standard.adding([url.password].compactMap { $0 }))
        var evidence = ["connected to \(connection.address)"]
        let preamble = exchange.purposes.filter { $0 == .auth || $0 == .select }
        let words = preamble.map { exchange.words(for: $0) }
        switch session.call(words + commands, evidence: evidence) {
        case .ended(let observation): return .ended(observation)
        case .value(let replies):
            let purposes = preamble + Array(repeating: .command, count: commands.count)
            for (index, (purpose, reply)) in zip(purposes, replies).enumerated() {
                let label = (words + commands)[index].joined(separator: " ")
                if let refusal = exchange.refusal(
                    reply, for: purpose, label: label, redactor: session.redactor, evidence: evidence)
                {
                    return .ended(refusal)
                }
            }
            evidence.append("db: \(url.db)")
            return .value((session, Array(replies.dropFirst(preamble.count)), evidence))
        }
    }

    /// Sends the commands as one pipeline and reads every reply, or says why they did not all arrive.
    func call(_ commands: [[String]], evidence: [String] = []) -> RedisStep<[RESPValue]> {
        if case .failure(let failure) = connection.send(commands.flatMap(respCommand), deadline: deadline) {
            return .ended(
                RedisExchange.unfinished([], invalid: nil, failure: failure, timeout: timeout, evidence: evidence))
        }
        let received = connection.receive(cap: RedisExchange.maxReplyBytes, deadline: deadline) { bytes in
            let parsed = RESPParser.parseAll(bytes, limit: commands.count)
            return parsed.invalid != nil || parsed.values.count == commands.count
        }
        let parsed = RESPParser.parseAll(received.bytes, limit: commands.count)
        guard parsed.invalid == nil, parsed.values.count == commands.count else {
            return .ended(
                RedisExchange.unfinished(
                    received.bytes, invalid: parsed.invalid, failure: received.failure, timeout: timeout,
                    evidence: evidence))
        }
        return .value(parsed.values)
    }

    /// Waits `pause`, or less when the deadline comes first; false when the run was cancelled meanwhile.
    func wait(_ pause: Duration, until end: ContinuousClock.Instant) -> Bool {
        let stop = min(end, ContinuousClock.now.advanced(by: pause))
        while ContinuousClock.now < stop {
            if deadline.isCancelled { return false }
            let slice = min(50, ContinuousClock.now.duration(to: stop).milliseconds)
            usleep(useconds_t(max(1, slice) * 1000))
        }
        return !deadline.isCancelled
    }
}
