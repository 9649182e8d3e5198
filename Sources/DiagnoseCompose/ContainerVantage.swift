import CProcessShim
import DiagnosePlatform
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A point of view inside a compose service's container, for network probes given `in: SERVICE`: connections
/// are made from the container's network namespace, and names resolve the way the compose network's DNS
/// resolves them (service names, container names and aliases of running containers on a shared network).
///
/// The blocking work enters the namespace with `setns` on its own thread, which ends with the work, so nothing
/// else is affected. Entering another namespace needs root (CAP_SYS_ADMIN), as `nsenter` does.
public struct ContainerVantage: Sendable {
    /// The service the probe stands in.
    public let service: String
    /// Its container.
    public let container: ContainerInfo
    /// Names answered by the compose network's DNS, with their IPv4 addresses.
    let names: [String: [String]]
    /// The project's services, running or not, so a stopped one fails to resolve as it does inside.
    let services: Set<String>
    /// The project is a Swarm stack, whose DNS answers for services and tasks.
    var isStack = false

    /// How the evidence names the vantage point.
    public var description: String { "from inside service '\(service)' (\(container.name))" }

    /// Finds the service's running container through the shared compose state, or says why the probe cannot stand there.
    public static func locate(
        _ service: String, selector: ComposeProject.Selector, compose: ComposeAdapter, environment: [String: String],
        cancellation: CancellationFlag
    ) async -> Result<ContainerVantage, ComposeError> {
        // The namespace is found through the container's host pid, which only means something on this host.
        if let host = remoteEngine(environment) {
            return .failure(
                .remoteEngine(
                    host: host,
                    need:
                        "in: \(service) enters the container's network through its host pid, so it needs the local engine's unix socket: run diagnose on the engine's host"
                ))
        }
        let project = compose.project(selector)
        let state: ProjectState
        switch await compose.state(of: project.name, cancellation: cancellation) {
        case .failure(let error): return .failure(error)
        case .success(let found): state = found
        }
        guard let container = state.containers(of: service).first else {
            return .failure(.notCreated(service: service, project: project.name))
        }
        guard container.isRunning, let pid = container.state.pid, pid > 0 else {
            return .failure(.notRunning(service: service, container: container.name, status: container.state.status))
        }
        let shared = Set(container.networks.keys)
        var names: [String: [String]] = [:]
        for other in state.containers where other.isRunning {
            for (network, attachment) in other.networks where shared.contains(network) && !attachment.ipAddress.isEmpty
            {
                var answers = Set([other.service, other.name].compactMap { $0 } + attachment.aliases)
                // Swarm's DNS also answers to the full service name and to `tasks.NAME` (every task's address).
                if let full = other.config.labels["com.docker.swarm.service.name"], let short = other.service {
                    answers.formUnion([full, "tasks.\(full)", "tasks.\(short)"])
                }
                for name in answers where !(names[name] ?? []).contains(attachment.ipAddress) {
                    names[name, default: []].append(attachment.ipAddress)
                }
            }
        }
        return .success(
            ContainerVantage(
                service: service, container: container, names: names, services: Set(state.services),
                isStack: state.stack != nil))
    }

    /// The engine's address when the environment (`DOCKER_HOST`, `DOCKER_CONTEXT`, the current context) names one
    /// not reached over a local unix socket: tcp (even on loopback, which may be a tunnel), ssh, or a context
    /// pointing elsewhere. Its host pids may mean nothing here. An endpoint that cannot be resolved counts as
    /// remote too, so the probe says so rather than entering a namespace it cannot vouch for.
    package static func remoteEngine(_ environment: [String: String]) -> String? {
        switch EngineEndpoint.resolve(environment: environment) {
        case .success(let endpoint): endpoint.isLocal ? nil : endpoint.description
        case .failure(let error): error.description
        }
    }

    /// Moves the calling thread into the container's network namespace; nil on success, else why not.
    public func enter() -> String? {
        guard let pid = container.state.pid else { return "the container has no process" }
        let code = cprocess_enter_netns(pid)
        return code == 0
            ? nil : "cannot enter the network namespace of \(container.name): \(String(cString: strerror(code)))"
    }

    /// The addresses of `host` as seen inside the container: a name the compose network's DNS answers, a literal
    /// address, or `localhost` (the container itself). Other names are not looked up: the probe stays on the
    /// compose network rather than asking the host's resolver about names the stack does not define.
    public func resolve(_ host: String, port: Int, deadline: NetworkDeadline) -> Result<[SocketAddress], NetworkFailure>
    {
        if let addresses = names[host] {
            var found: [SocketAddress] = []
            for address in addresses {
                if case .success(let more) = Resolver.lookupBlocking(address, port: port) { found += more }
            }
            return .success(found)
        }
        if Self.isLocal(host) { return Resolver.lookupBlocking(host, port: port) }
        return .failure(.dnsFailure(message: unresolvedMessage(host)))
    }

    /// Why `host` does not resolve inside, or nil when it does.
    public func unresolved(_ host: String) -> String? {
        names[host] != nil || Self.isLocal(host) ? nil : unresolvedMessage(host)
    }

    func unresolvedMessage(_ host: String) -> String {
        if isStack {
            return services.contains(host)
                ? "service '\(host)' has no running task on the stack's network, so its name does not resolve"
                : "'\(host)' is no name on the stack's network (no running task answers to it)"
        }
        return services.contains(host)
            ? "Temporary failure in name resolution: service '\(host)' has no running container on the compose network"
            : "'\(host)' is no name on the compose network (no running container answers to it)"
    }

    /// A literal address or `localhost`, which need no DNS.
    static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host.contains(":") || (!host.isEmpty && host.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// The names the compose network resolves, as `host:port:address` lines for libcurl's CURLOPT_RESOLVE.
    public func curlResolveEntries(host: String, port: Int) -> [String]? {
        names[host].map { $0.map { "\(host):\(port):\($0)" } }
    }
}
