import DiagnosePlatform
import Foundation

/// Where the Docker engine listens, chosen as the docker CLI chooses it: `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and
/// `DOCKER_CERT_PATH`), else `DOCKER_CONTEXT`, else the config file's `currentContext`, else the local socket.
package struct EngineEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// How the engine is reached.
    package enum Transport: Sendable, Hashable {
        /// A unix socket on this machine.
        case unix(path: String)
        /// TCP, plain or TLS with the client files.
        case tcp(host: String, port: Int, tls: CurlTLSFiles?)
        /// An ssh destination (`ssh://[user@]host[:port][/socket]`), reached through `docker system dial-stdio` there.
        case ssh(SSHDestination)
    }

    /// An `ssh://` engine address, split as the docker CLI splits it (its `connhelper/ssh`): no password, query or
    /// fragment; a path names the engine's socket on that host.
    package struct SSHDestination: Sendable, Hashable, CustomStringConvertible {
        /// The address as given.
        package var address: String
        /// `-l USER`, when the address has one.
        package var user: String?
        /// The host, without brackets.
        package var host: String
        /// `-p PORT`, when the address has one.
        package var port: Int?
        /// The engine's socket on that host, when the address names one.
        package var socketPath: String?

        package var description: String { address }

        /// The command that makes one connection, as the docker CLI's: `ssh -o ConnectTimeout=N -T [-l USER]
        /// [-p PORT] -- HOST docker [--host=unix://PATH] system dial-stdio`, with `BatchMode=yes` added: diagnose
        /// runs unattended, so ssh fails at once where it would ask for a password, a passphrase or a new host key.
        package func command(connectTimeout: Duration) -> [String] {
            let seconds = max(1, Int((connectTimeout.milliseconds + 999) / 1000))
            var argv = ["ssh", "-o", "ConnectTimeout=\(seconds)", "-o", "BatchMode=yes", "-T"]
            if let user { argv += ["-l", user] }
            if let port { argv += ["-p", String(port)] }
            argv += ["--", host, "docker"]
            // ssh hands the remote command to the remote user's shell as one line: the path is quoted for it.
            if let socketPath { argv.append(shellQuoted("--host=unix://\(socketPath)")) }
            return argv + ["system", "dial-stdio"]
        }

        /// The destination an `ssh://` address names, or why it names none (`origin` says where it was read).
        static func parse(_ address: String, origin: String) -> Result<SSHDestination, ComposeError> {
            let parts = URLComponents(string: address)
            // A password in the address is never repeated, whatever the redactor would catch after the cut.
            let shown =
                parts?.percentEncodedPassword.map { address.replacingOccurrences(of: ":\($0)@", with: ":***@") }
                ?? address
            func refused(_ reason: String) -> Result<SSHDestination, ComposeError> {
                .failure(
                    .engineUnreachable(
                        "\(origin) '\(shown.truncated(to: 200))' is not a usable ssh://[user@]host[:port] address: \(reason)"
                    ))
            }
            guard let parts, parts.scheme == "ssh" else { return refused("it is not a URL") }
            guard parts.password == nil else { return refused("a password in the address is not supported") }
            guard parts.query == nil else { return refused("query parameters are not allowed") }
            guard parts.fragment == nil else { return refused("fragments are not allowed") }
            guard let host = parts.host, !host.isEmpty else { return refused("the host name is empty") }
            // A name ssh would read as an option, or a line break in an argument, is refused rather than passed on.
            guard !host.hasPrefix("-"), !address.contains(where: \.isNewline) else {
                return refused("the host name is not one ssh can take")
            }
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            let path = parts.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")).isEmpty ? nil : parts.path
            return .success(
                SSHDestination(
                    address: address, user: parts.user.flatMap { $0.isEmpty ? nil : $0 }, host: bare,
                    port: parts.port, socketPath: path))
        }
    }

    /// How the engine is reached.
    package var transport: Transport
    /// Where the choice came from, for messages: `DOCKER_HOST`, `context 'name'`, or `default`.
    package var origin: String

    /// An endpoint of this transport, chosen by `origin`.
    package init(transport: Transport, origin: String) {
        self.transport = transport
        self.origin = origin
    }

    /// The engine's socket when nothing says otherwise.
    package static let defaultSocket = "/var/run/docker.sock"

    /// Whether containers of this engine run on this machine, so their network namespaces and /proc can be entered.
    /// A tcp endpoint on a loopback address is still not counted as local: nothing proves the engine behind it
    /// is this machine's (a forwarder or tunnel may lead elsewhere).
    package var isLocal: Bool {
        if case .unix = transport { return true }
        return false
    }

    /// The URL prefix requests are made on; for a unix socket the host is only a label.
    package var baseURL: String {
        switch transport {
        case .unix, .ssh: "http://docker"
        case .tcp(let host, let port, let tls):
            "\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    package var description: String {
        switch transport {
        case .unix(let path): "unix://\(path) (\(origin))"
        case .tcp(let host, let port, let tls): "tcp://\(host):\(port)\(tls == nil ? "" : " with TLS") (\(origin))"
        case .ssh(let destination): "\(destination.address) (\(origin))"
        }
    }

    /// The endpoint the environment names, or why it names none that can be used.
    package static func resolve(environment: [String: String]) -> Result<EngineEndpoint, ComposeError> {
        if let host = environment["DOCKER_HOST"], !host.isEmpty {
            let verify = !(environment["DOCKER_TLS_VERIFY"] ?? "").isEmpty
            let certificates =
                environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? configFolder(environment)
            let tls = verify ? tlsFiles(in: certificates) : nil
            return parse(host, tls: tls, origin: "DOCKER_HOST")
        }
        let config = configFolder(environment)
        let context =
            environment["DOCKER_CONTEXT"].flatMap { $0.isEmpty ? nil : $0 } ?? currentContext(configFolder: config)
        guard let context, context != "default" else {
            return .success(EngineEndpoint(transport: .unix(path: defaultSocket), origin: "default"))
        }
        return contextEndpoint(named: context, configFolder: config)
    }

    /// `$DOCKER_CONFIG`, else `~/.docker`.
    static func configFolder(_ environment: [String: String]) -> String {
        environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
    }

    /// The docker CLI's file names in a certificate folder. As the docker CLI does, a missing cert.pem or key.pem
    /// is left out (no client certificate is presented; an engine run with `--tlsverify` then refuses the
    /// connection), while ca.pem is always named (a missing one fails the connection).
    static func tlsFiles(in folder: String) -> CurlTLSFiles {
        func ifPresent(_ name: String) -> String? {
            FileManager.default.fileExists(atPath: folder + "/" + name) ? folder + "/" + name : nil
        }
        return CurlTLSFiles(
            certificateAuthority: folder + "/ca.pem", certificate: ifPresent("cert.pem"), key: ifPresent("key.pem"))
    }

    /// A `DOCKER_HOST`-style address: `unix:///path`, `tcp://host:port`, `ssh://user@host`.
    static func parse(_ host: String, tls: CurlTLSFiles?, origin: String) -> Result<EngineEndpoint, ComposeError> {
        let invalid = ComposeError.engineUnreachable(
            "\(origin) '\(host.truncated(to: 200))' is not unix:///path, tcp://host:port or ssh://[user@]host")
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { return .failure(invalid) }
            return .success(EngineEndpoint(transport: .unix(path: path), origin: origin))
        }
        if host.hasPrefix("ssh://") {
            return SSHDestination.parse(host, origin: origin).map {
                EngineEndpoint(transport: .ssh($0), origin: origin)
            }
        }
        guard host.hasPrefix("tcp://") || host.hasPrefix("http://") || host.hasPrefix("https://"),
            let parts = URLComponents(string: host), let name = parts.host, !name.isEmpty
        else { return .failure(invalid) }
        // The docker CLI's defaults: 2376 with TLS, 2375 without.
        let port = parts.port ?? (tls == nil ? 2375 : 2376)
        return .success(EngineEndpoint(transport: .tcp(host: name, port: port, tls: tls), origin: origin))
    }

    /// The config file's `currentContext`, if it names one.
    static func currentContext(configFolder: String) -> String? {
        guard let data = FileManager.default.contents(atPath: configFolder + "/config.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let name = object["currentContext"] as? String, !name.isEmpty
        else { return nil }
        return name
    }

    /// A context's docker endpoint from `contexts/meta/<digest>/meta.json`. The folder's name is the SHA-256 of the
    /// context's name; rather than hash, the folders are read and the one whose `Name` matches is taken (the file
    /// carries the name). Its TLS files, when it has them, are in `contexts/tls/<digest>/docker/`.
    static func contextEndpoint(named name: String, configFolder: String) -> Result<EngineEndpoint, ComposeError> {
        let meta = configFolder + "/contexts/meta"
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: meta)) ?? []
        for folder in folders.sorted() {
            guard let data = FileManager.default.contents(atPath: "\(meta)/\(folder)/meta.json"),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                object["Name"] as? String == name
            else { continue }
            let docker = (object["Endpoints"] as? [String: Any])?["docker"] as? [String: Any]
            guard let host = docker?["Host"] as? String, !host.isEmpty else {
                return .failure(
                    .engineUnreachable("docker context '\(name)' has no docker endpoint in \(meta)/\(folder)"))
            }
            let tlsFolder = "\(configFolder)/contexts/tls/\(folder)/docker"
            let hasTLS = FileManager.default.fileExists(atPath: tlsFolder + "/ca.pem")
            return parse(host, tls: hasTLS ? tlsFiles(in: tlsFolder) : nil, origin: "context '\(name)'")
        }
        return .failure(
            .engineUnreachable(
                "docker context '\(name)' is not in \(meta); run 'docker context ls', or set DOCKER_CONTEXT or DOCKER_HOST"
            ))
    }
}
