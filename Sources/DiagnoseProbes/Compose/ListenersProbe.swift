import DiagnoseCompose
import DiagnosePlatform
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP socket in the LISTEN state, as a network namespace's `/proc/PID/net/tcp` or `tcp6` lists it.
public struct ListeningSocket: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Who can connect to it.
    public enum Scope: Sendable, Hashable {
        /// Every address of the namespace (`0.0.0.0`, `::`).
        case every
        /// Only the namespace itself (`127.0.0.0/8`, `::1`).
        case loopback
        /// One address of one interface.
        case one
    }

    /// The local address, IPv4-mapped IPv6 addresses shown as IPv4.
    public var address: String
    /// The port.
    public var port: Int
    /// Who can connect to it.
    public var scope: Scope

    /// `0.0.0.0:8000`, `[::1]:8000`.
    public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    public static func < (lhs: ListeningSocket, rhs: ListeningSocket) -> Bool {
        (lhs.port, lhs.address) < (rhs.port, rhs.address)
    }

    /// The LISTEN rows (state `0A`) of a `/proc/net/tcp` or `tcp6` table.
    public static func parse(procNetTCP text: String) -> [ListeningSocket] {
        var found: [ListeningSocket] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 3, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16), let bytes = addressBytes(local[0]) else {
                continue
            }
            found.append(socket(bytes, port: port))
        }
        return found
    }

    /// The address bytes in network order: the kernel prints each 32-bit word of the address in host order.
    static func addressBytes(_ hex: Substring) -> [UInt8]? {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var rest = hex[...]
        while !rest.isEmpty {
            guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
            rest = rest.dropFirst(8)
        }
        return bytes
    }

    static func socket(_ bytes: [UInt8], port: Int) -> ListeningSocket {
        let mapped = bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        if bytes.count == 4 || mapped {
            let v4 = Array(bytes.suffix(4))
            let scope: Scope = v4.allSatisfy { $0 == 0 } ? .every : v4[0] == 127 ? .loopback : .one
            return ListeningSocket(address: v4.map(String.init).joined(separator: "."), port: port, scope: scope)
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
        let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        let scope: Scope = bytes.allSatisfy { $0 == 0 } ? .every : loopback ? .loopback : .one
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ListeningSocket(address: address, port: port, scope: scope)
    }
}

/// What a compose service listens on inside its container (its network namespace, read from the host as
/// `/proc/PID/net/tcp` and `tcp6`), held against the port the other services and its healthcheck use and the
/// host URL its users use.
///
/// Causes: `not-listening`, `loopback-only`, `not-published`, `published-elsewhere`, `published-to-other-port`
/// (fail); `not-running`, `namespace-denied`, `remote-engine`, `not-created`, `docker-missing`,
/// `engine-unreachable`, `docker-error`, `cancelled` (error).
public struct ListenersProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The service listens on the port only on a loopback address, which other containers cannot reach.
        case loopbackOnly = "loopback-only"
        /// The sockets of the container's network namespace cannot be read (error).
        case namespaceDenied = "namespace-denied"
        /// Nothing in the container listens on the port.
        case notListening = "not-listening"
        /// The container port is not published on the host.
        case notPublished = "not-published"
        /// The container is not running, so nothing in it listens (error).
        case notRunning = "not-running"
        /// The port is published, but not on the host port of `host_url`.
        case publishedElsewhere = "published-elsewhere"
        /// The host port of `host_url` is published to another container port.
        case publishedToOtherPort = "published-to-other-port"
        /// The engine is on another machine, whose host pids mean nothing here (error).
        case remoteEngine = "remote-engine"
    }

    /// The service.
    public var service: String
    /// The container port the other services and the healthcheck use.
    public var port: Int
    /// The URL users use from the host, if given.
    public var hostURL: String?
    /// The port of `hostURL` (its scheme's default when it names none).
    public var hostPort: Int?
    /// Its project.
    public var selector: ComposeProject.Selector

    /// The most bytes read of one socket table; the kernel lists listening sockets first, so a cut table
    /// still holds every listener.
    static let tableLimit = 4 << 20
    /// Docker's embedded DNS server listens inside every container on a user-defined network; it is not the service.
    static let dockerDNS = "127.0.0.11"

    /// Builds the probe from `service`, `port`, optional `host_url` and the project arguments.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        service = try arguments.requiredString("service")
        guard let port = try arguments.int("port", in: 1...65535) else {
            throw ProbeArgumentError("port", "is required")
        }
        self.port = port
        selector = try ComposeProject.Selector(arguments)
        if let url = try arguments.string("host_url")?.trimmingWhitespace(), !url.isEmpty {
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
                let found = components.port ?? ["http": 80, "https": 443][scheme]
            else {
                throw ProbeArgumentError("host_url", "expected a URL such as http://localhost:8050, got '\(url)'")
            }
            hostURL = url
            hostPort = found
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        if let remote = ContainerVantage.remoteEngine(context.environment) {
            return .error(
                Cause.remoteEngine.rawValue,
                "the engine at \(remote) is not known to be on this machine (not a local unix socket); listeners reads a container's sockets through its host pid and needs a local engine"
            )
        }
        let project = context.compose.project(selector)
        let container: ContainerInfo
        switch await context.compose.container(of: service, in: project.name, cancellation: context.cancellation) {
        case .failure(let error): return error.observation
        case .success(let found): container = found
        }
        let name = "service '\(service)' (\(container.name))"
        guard container.isRunning, let pid = container.state.pid, pid > 0 else {
            return notRunning(name, container.state.status, container)
        }
        var sockets: Set<ListeningSocket> = []
        for table in ["tcp", "tcp6"] {
            let path = "/proc/\(pid)/net/\(table)"
            switch Self.readTable(path) {
            case .success(let text):
                sockets.formUnion(ListeningSocket.parse(procNetTCP: text))
            case .failure(let failure) where failure.code == ENOENT && table == "tcp6":
                continue  // a kernel without IPv6
            case .failure(let failure) where failure.code == ENOENT || failure.code == ESRCH:
                return notRunning(name, "gone (its process ended after the state was read)", container)
            case .failure(let failure):
                let code = failure.code
                return .error(
                    Cause.namespaceDenied.rawValue,
                    "cannot read the sockets of \(container.name)'s network namespace (\(path): \(String(cString: strerror(code)))); diagnose needs root, as for in: SERVICE",
                    evidence: ["container: \(container.name) (pid \(pid))"])
            }
        }
        let listeners = sockets.filter { $0.address != Self.dockerDNS || $0.port == port }.sorted()
        return judge(listeners, container, pid: pid)
    }

    func notRunning(_ name: String, _ status: String, _ container: ContainerInfo) -> Observation {
        .error(
            Cause.notRunning.rawValue, "\(name) is \(status), so nothing in it listens",
            evidence: ["container: \(container.name)", "state: \(container.state.status)"])
    }

    /// Holds what the container listens on against the port and the host URL.
    func judge(_ listeners: [ListeningSocket], _ container: ContainerInfo, pid: Int32) -> Observation {
        let name = "service '\(service)' (\(container.name))"
        let published = Self.tcpBindings(container)
        var evidence = [
            "container: \(container.name) (pid \(pid))",
            "listens on: " + (listeners.isEmpty ? "nothing (no TCP socket in LISTEN)" : Self.list(listeners)),
            "published: " + (published.isEmpty ? "none" : published.map(\.description).joined(separator: ", ")),
        ]
        let healthcheck = Self.healthcheck(container)
        if let healthcheck { evidence.append("healthcheck: \(healthcheck)") }
        if let hostURL, let hostPort { evidence.append("host url: \(hostURL) (port \(hostPort))") }

        let onPort = listeners.filter { $0.port == port }
        guard !onPort.isEmpty else {
            let elsewhere =
                listeners.isEmpty ? "it listens on no TCP port at all" : "it listens on \(Self.list(listeners)) only"
            return .fail(
                Cause.notListening.rawValue, "nothing in \(name) listens on port \(port); \(elsewhere)",
                evidence: evidence)
        }
        if onPort.allSatisfy({ $0.scope == .loopback }) {
            if let healthcheck, ["localhost", "127.0.0.1", "::1"].contains(where: healthcheck.contains) {
                evidence.append(
                    "the healthcheck targets localhost inside the container, so it passes while other containers cannot connect"
                )
            }
            return .fail(
                Cause.loopbackOnly.rawValue,
                "\(name) listens on port \(port) only on \(Self.list(onPort)): other containers and the published port cannot reach it",
                evidence: evidence)
        }
        let toPort = published.filter { $0.containerPort == port }
        let shownToPort =
            toPort.isEmpty ? "not published" : "published " + toPort.map(\.description).joined(separator: ", ")
        guard let hostPort else {
            return .pass("\(name) listens on \(Self.list(onPort)); \(shownToPort)", evidence: evidence)
        }
        if toPort.contains(where: { $0.hostPort == hostPort }) {
            return .pass("\(name) listens on \(Self.list(onPort)); \(shownToPort)", evidence: evidence)
        }
        if let other = published.first(where: { $0.hostPort == hostPort }) {
            let there = listeners.filter { $0.port == other.containerPort }
            evidence.append(
                "on port \(other.containerPort): "
                    + (there.isEmpty ? "nothing listens" : "listens on \(Self.list(there))"))
            return .fail(
                Cause.publishedToOtherPort.rawValue,
                "host port \(hostPort) is published to container port \(other.containerPort) (\(other)), but \(name) serves on \(port)",
                evidence: evidence)
        }
        if !toPort.isEmpty {
            return .fail(
                Cause.publishedElsewhere.rawValue,
                "compose publishes \(toPort.map(\.shortDescription).joined(separator: ", ")), the URL users use is :\(hostPort)",
                evidence: evidence)
        }
        return .fail(
            Cause.notPublished.rawValue,
            "container port \(port) of \(name) is not published on the host, so :\(hostPort) reaches nothing of it",
            evidence: evidence)
    }

    /// A host port published to a container port over TCP.
    struct Publication: CustomStringConvertible {
        var hostIP: String
        var hostPort: Int
        var containerPort: Int
        var shortDescription: String { "\(hostIP):\(hostPort)->\(containerPort)" }
        var description: String { shortDescription + "/tcp" }
    }

    /// The container's TCP publications, sorted and without repeats (the engine lists `0.0.0.0` and `::` apart).
    static func tcpBindings(_ container: ContainerInfo) -> [Publication] {
        var found: [Publication] = []
        for (key, bindings) in container.publishedPorts {
            let parts = key.split(separator: "/")
            guard let containerPort = parts.first.flatMap({ Int($0) }), parts.count < 2 || parts[1] == "tcp" else {
                continue
            }
            for binding in bindings {
                guard let hostPort = Int(binding.hostPort) else { continue }
                let ip = binding.hostIP.isEmpty ? "0.0.0.0" : binding.hostIP
                let shown = ip.contains(":") ? "[\(ip)]" : ip
                if !found.contains(where: {
                    $0.hostPort == hostPort && $0.containerPort == containerPort && $0.hostIP == shown
                }) {
                    found.append(Publication(hostIP: shown, hostPort: hostPort, containerPort: containerPort))
                }
            }
        }
        return found.sorted { ($0.containerPort, $0.hostPort, $0.hostIP) < ($1.containerPort, $1.hostPort, $1.hostIP) }
    }

    /// The healthcheck's command, redacted and short, or nil when it has none.
    static func healthcheck(_ container: ContainerInfo) -> String? {
        let test = container.config.healthcheck
        guard let kind = test.first, kind != "NONE", test.count > 1 else { return nil }
        return Redactor.standard.redact(test.joined(separator: " ")).truncated(to: 200)
    }

    /// Sockets as a short list.
    static func list(_ sockets: [ListeningSocket]) -> String {
        let shown = sockets.prefix(12).map(\.description).joined(separator: ", ")
        return sockets.count > 12 ? shown + " and \(sockets.count - 12) more" : shown
    }

    /// Why a table could not be read: the `errno` of `open` or `read`.
    struct ReadFailure: Error {
        var code: Int32
    }

    /// A `/proc` table's text, at most `tableLimit` bytes.
    static func readTable(_ path: String) -> Result<String, ReadFailure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(ReadFailure(code: errno)) }
        defer { close(descriptor) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while data.count < tableLimit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 { return .failure(ReadFailure(code: errno)) }
                break
            }
            data += chunk[0..<count]
        }
        return .success(String(decoding: data, as: UTF8.self))
    }
}

extension ProbeKind {
    /// `listeners`: what a service listens on inside its container, against its port and host URL.
    public static let listeners = ProbeKind(
        name: "listeners", required: ["service", "port"], optional: ComposeProject.argumentNames.union(["host_url"])
    ) { arguments throws(ProbeArgumentError) in try ListenersProbe(arguments) }
}
