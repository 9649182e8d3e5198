import DiagnoseCompose
import DiagnosePlatform

/// Checks that a TCP port accepts connections.
///
/// Causes, fail: `connection-refused`, `dns-failure`, `dns-timeout`, `connect-timeout`, `connect-failed`.
/// Cause, error: `cancelled`.
public struct TCPProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries. Connection failures carry `NetworkFailure.cause`.
    public enum Cause: String, Sendable {
        /// The network namespace of the `in:` service cannot be entered (error).
        case namespaceDenied = "namespace-denied"
    }

    /// The host name or address.
    public var host: String
    /// The port.
    public var port: Int
    /// The compose service whose container the probe connects from (`in:`), if any.
    public var service: String?
    /// Which compose project `in:` refers to.
    var selector: ComposeProject.Selector

    /// Builds the probe: `host` and `port`, optionally `in: SERVICE`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        service = try arguments.string("in")
        selector = try ComposeProject.Selector(arguments)
        if service == nil, let extra = ComposeProject.argumentNames.sorted().first(where: arguments.has) {
            throw ProbeArgumentError(extra, "only applies with 'in: SERVICE'")
        }
        host = try arguments.requiredString("host").trimmingWhitespace()
        guard !host.isEmpty else { throw ProbeArgumentError("host", "must name a host, e.g. 127.0.0.1 or db") }
        guard let port = try arguments.int("port", in: 1...65535) else {
            throw ProbeArgumentError("port", "is required")
        }
        self.port = port
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let host = self.host
        let port = self.port
        let (vantage, refusal) = await ContainerVantage.standpoint(service, selector: selector, context: context)
        if let refusal { return refusal }
        let standpoint = vantage
        return await NetworkDeadline.offloaded(context) { deadline in
            let clock = ContinuousClock()
            let began = clock.now
            if let standpoint, let problem = standpoint.enter() {
                return .error(Cause.namespaceDenied.rawValue, problem, evidence: [standpoint.description])
            }
            var observation = Self.connect(
                host: host, port: port, deadline: deadline, timeout: context.timeout,
                resolve: standpoint.map { $0.resolve } ?? Resolver.resolve)
            if let standpoint { observation.evidence.insert(standpoint.description, at: 0) }
            observation.evidence.append("time: \(began.duration(to: clock.now).milliseconds)ms")
            return observation
        }
    }

    static func connect(
        host: String, port: Int, deadline: NetworkDeadline, timeout: Duration,
        resolve: (String, Int, NetworkDeadline) -> Result<[SocketAddress], NetworkFailure> = Resolver.resolve
    ) -> Observation {
        let addresses: [SocketAddress]
        switch resolve(host, port, deadline) {
        case .success(let found): addresses = found
        case .failure(let failure): return observation(failure, host: host, port: port, timeout: timeout)
        }
        let resolved = "addresses: " + addresses.map(\.host).joined(separator: ", ")
        var attempts: [String] = []
        switch TCPConnection.connect(to: addresses, deadline: deadline, attempts: &attempts) {
        case .success(let connection):
            return .pass(
                "\(connection.address) accepts connections", evidence: [resolved, "connected to \(connection.address)"])
        case .failure(let failure):
            var observation = observation(failure, host: host, port: port, timeout: timeout)
            observation.evidence += [resolved] + attempts
            return observation
        }
    }

    /// The observation for a failure to resolve or connect; shared by the probes that connect over TCP.
    static func observation(_ failure: NetworkFailure, host: String, port: Int, timeout: Duration) -> Observation {
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch failure {
        case .dnsFailure(let message):
            return .fail(failure.cause, "\(host) does not resolve: \(message)", evidence: ["resolver: \(message)"])
        case .dnsTimeout:
            return .fail(
                failure.cause, "\(host) did not resolve within \(timeout.shortDescription)",
                evidence: ["resolver: no answer"])
        case .refused:
            return .fail(failure.cause, "\(target) refused the connection: nothing listens there")
        case .connectTimeout:
            return .fail(
                failure.cause, "\(target) did not accept the connection within \(timeout.shortDescription)")
        case .connectFailed(let message):
            return .fail(failure.cause, "cannot connect to \(target): \(message)")
        case .cancelled:
            return .error(failure.cause, "the run was cancelled while connecting to \(target)")
        case .replyTimeout, .closed, .broken:
            return .fail(failure.cause, "the connection to \(target) failed (\(failure.cause))")
        }
    }
}

extension ProbeKind {
    /// `tcp`: checks that a port accepts connections.
    public static let tcp = ProbeKind(
        name: "tcp", required: ["host", "port"], optional: ComposeProject.argumentNames.union(["in"])
    ) { arguments throws(ProbeArgumentError) in
        try TCPProbe(arguments)
    }
}
