import CCurlShim
import DiagnosePlatform
import Foundation

/// A client of the Docker Engine API over libcurl: a unix socket (CURLOPT_UNIX_SOCKET_PATH) or tcp, with TLS and a
/// client certificate when the environment asks for it. Calls block the calling thread (each is one or a few
/// libcurl transfers bounded by `timeout` and stopped by the cancellation flags within about a second); run them
/// off the cooperative pool. Each request uses its own easy handle, so concurrent probes never share one; the
/// connections are kept in a pool that the copies of one client share, so that a state read over tcp+TLS makes one
/// handshake rather than one per request.
package struct DockerEngine: Sendable {
    /// Where the engine listens.
    package var endpoint: EngineEndpoint
    /// The connections kept open between this client's requests, on any thread.
    private let connections: CurlConnectionPool
    /// For an ssh engine, what starts each connection (`ssh HOST docker system dial-stdio`); the pool keeps it.
    private var dialer: CommandDialer? { connections.dialer }
    /// For an ssh engine, the requests that may be in flight at once, so that a run holds at most that many ssh
    /// connections (reused by the pool): sshd drops new connections beyond `MaxStartups` (10 unauthenticated by
    /// default) at random, and each handshake costs a key exchange on both ends.
    private let sshSlots: DispatchSemaphore?

    /// Requests in flight at once over ssh.
    package static let sshConcurrency = 4
    /// The API version requests name, after `negotiate`; the oldest this client understands until then.
    package var apiVersion: String = DockerEngine.minimumVersion

    /// The newest API version this client speaks: Docker 20.10's. A newer engine answers it too.
    package static let maximumVersion = "1.41"
    /// The oldest engine API accepted (Docker 1.13): older engines lack the filters and fields read here.
    package static let minimumVersion = "1.25"

    /// One answer of the engine.
    package struct Response: Sendable {
        /// The HTTP status.
        package var status: Int
        /// The response header lines.
        package var headers: [String]
        /// The body, up to the read limit.
        package var body: [UInt8]
        /// The body was cut at the read limit.
        package var stoppedAtLimit: Bool

        /// The value of the first header of this name (case-insensitive), if any.
        package func header(_ name: String) -> String? {
            let prefix = name.lowercased() + ":"
            return headers.first { $0.lowercased().hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
    }

    /// A client of the engine at `endpoint`, not yet negotiated. An ssh engine's connections are made by `ssh`
    /// (found on the PATH of `environment`, which it runs with) with a connect timeout of `sshConnectTimeout`.
    package init(
        endpoint: EngineEndpoint, environment: [String: String] = ProcessInfo.processInfo.environment,
        sshConnectTimeout: Duration = .seconds(30)
    ) {
        self.endpoint = endpoint
        if case .ssh(let destination) = endpoint.transport {
            // ssh is found as docker and compose are, on the environment's PATH.
            var argv = destination.command(connectTimeout: sshConnectTimeout)
            argv[0] = ComposeCLI.executable(named: "ssh", environment: environment) ?? "ssh"
            connections = CurlConnectionPool(dialer: CommandDialer(argv: argv, environment: environment))
            sshSlots = DispatchSemaphore(value: Self.sshConcurrency)
        } else {
            connections = CurlConnectionPool()
            sshSlots = nil
        }
    }

    /// How many ssh connections this client started (each a `ssh ... docker system dial-stdio`); 0 for the others.
    package var sshConnectionsStarted: Int { dialer?.commandsStarted ?? 0 }

    /// How many of them are open now.
    package var sshConnectionsOpen: Int { dialer?.openConnections ?? 0 }

    /// Asks `GET /_ping` for the engine's API version and settles on min(engine, 1.41); an engine older than 1.25
    /// is refused with what to do.
    package mutating func negotiate(timeout: Duration, cancellation: [CancellationFlag]) -> Result<String, ComposeError>
    {
        let answer = send(
            "GET", "/_ping", versioned: false, timeout: timeout, readLimit: 1024, cancellation: cancellation)
        guard case .success(let response) = answer else { return answer.map { _ in "" } }
        // An engine too old to send the header speaks 1.24 or older.
        let server = response.header("API-Version") ?? "1.24"
        guard Self.compare(server, Self.minimumVersion) >= 0 else {
            return .failure(
                .engineUnreachable(
                    "the engine at \(endpoint) speaks API \(server.truncated(to: 20)), older than the \(Self.minimumVersion) diagnose needs; upgrade Docker"
                ))
        }
        apiVersion = Self.compare(server, Self.maximumVersion) < 0 ? server : Self.maximumVersion
        return .success(apiVersion)
    }

    /// Orders two `major.minor` versions: negative, zero or positive.
    package static func compare(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }
        let right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let difference = (index < left.count ? left[index] : 0) - (index < right.count ? right[index] : 0)
            if difference != 0 { return difference }
        }
        return 0
    }

    /// One request, its failures mapped: no engine → `engineUnreachable`, an HTTP error → `dockerFailed` with the
    /// engine's `message`, sanitized and cut.
    package func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, versioned: Bool = true,
        timeout: Duration, readLimit: Int, cancellation: [CancellationFlag]
    ) -> Result<Response, ComposeError> {
        let target = (versioned ? "/v\(apiVersion)" : "") + path + Self.queryString(query)
        var request = CurlRequest(
            url: endpoint.baseURL + target, method: method, timeout: timeout, readLimit: readLimit)
        request.keepHeaders = true
        request.connectionPool = connections
        request.body = body
        if body != nil { request.headers = ["Content-Type: application/json"] }
        switch endpoint.transport {
        case .unix(let socket): request.unixSocketPath = socket
        case .tcp(_, _, let tls): request.tlsFiles = tls
        case .ssh: break  // the pool's dialer makes the connections
        }
        if let sshSlots {
            // Waiting for a slot counts against the request's timeout, and stops on cancellation.
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: timeout)
            while sshSlots.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if cancellation.contains(where: \.isCancelled) { return .failure(.cancelled) }
                guard clock.now < end else {
                    return .failure(
                        .engineUnreachable(
                            "\(method) \(path) on \(endpoint) waited \(timeout) for one of its \(Self.sshConcurrency) ssh connections"
                        ))
                }
            }
            request.timeout = max(.milliseconds(1), clock.now.duration(to: end))
        }
        defer { sshSlots?.signal() }
        let began = DispatchTime.now().uptimeNanoseconds
        let response = Curl.perform(request, cancellation: cancellation)
        if response.cancelled || response.code == CURLE_ABORTED_BY_CALLBACK { return .failure(.cancelled) }
        let command = "\(method) \(path)"
        guard response.isComplete else {
            return .failure(unreachable(response, timeout: timeout, command: command, began: began))
        }
        guard response.status < 400 else {
            return .failure(
                .dockerFailed(command: command, message: Self.engineMessage(response.body, status: response.status)))
        }
        return .success(
            Response(
                status: response.status, headers: response.headers, body: response.body,
                stoppedAtLimit: response.stoppedAtLimit))
    }

    /// What a failed transfer says about the engine, with what to do.
    private func unreachable(_ response: CurlResponse, timeout: Duration, command: String, began: UInt64)
        -> ComposeError
    {
        let place: String
        switch endpoint.transport {
        case .unix(let path): place = path
        default: place = endpoint.description
        }
        if case .tcp(_, _, let files?) = endpoint.transport, let failure = tlsFailure(response, files: files) {
            return .engineUnreachable("TLS with \(place) failed: \(failure)")
        }
        if case .ssh(let destination) = endpoint.transport, let dialer {
            return .engineUnreachable(
                sshFailure(response, destination: destination, said: dialer.lastError(since: began), timeout: timeout))
        }
        switch (response.code, response.osErrno) {
        case (CURLE_OPERATION_TIMEDOUT, _):
            return .engineUnreachable("\(command) on \(place) had no answer within \(timeout)")
        case (_, ENOENT):
            return .engineUnreachable("\(place) does not exist: is dockerd running, and is DOCKER_HOST right?")
        case (_, EACCES), (_, EPERM):
            return .engineUnreachable("permission denied on \(place): run as a member of the docker group or as root")
        case (_, ECONNREFUSED):
            return .engineUnreachable("\(place) refused the connection: is dockerd running?")
        default:
            return .engineUnreachable("\(command) on \(place): \(response.message.truncated(to: 200))")
        }
    }

    /// What a transfer that failed over TLS says about the TLS files and the port, or nil when it failed otherwise.
    private func tlsFailure(_ response: CurlResponse, files: CurlTLSFiles) -> String? {
        let message = response.message
        let detail = message.truncated(to: 200)
        let folder = (files.certificateAuthority as NSString).deletingLastPathComponent
        let source =
            endpoint.origin == "DOCKER_HOST"
            ? "DOCKER_CERT_PATH (\(folder))" : "\(endpoint.origin)'s TLS folder \(folder)"
        // Under TLS 1.3 the client's handshake is over before the engine checks the client's certificate: a refusal
        // comes as an alert on the first read, or as a reset connection when the engine closed before it was read.
        let endedAfterHandshake =
            response.timing.tlsHandshake > 0 && response.status == 0
            && [CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING].contains(response.code)
        let certificateAlert =
            message.contains(" alert ") && (message.contains("certificate") || message.contains("unknown ca"))
        if certificateAlert || endedAfterHandshake {
            let reason =
                certificateAlert || response.osErrno == 0 ? detail : String(cString: strerror(response.osErrno))
            guard let certificate = files.certificate else {
                return
                    "the engine ended the connection after the handshake (\(reason)): it wants a client certificate, and none was presented: \(source) has no cert.pem and key.pem"
            }
            return
                "the engine ended the connection after the handshake (\(reason)): it accepts only a client certificate signed by the CA it trusts (dockerd --tlscacert), and \(certificate) in \(source) may not be one"
        }
        switch response.code {
        case CURLE_PEER_FAILED_VERIFICATION where message.contains("target host name"):
            return
                "the engine's certificate is not made out to the host \(endpoint.origin) names (\(detail)): name the engine as its certificate does"
        case CURLE_PEER_FAILED_VERIFICATION:
            return
                "the engine's certificate was not signed by the CA in \(files.certificateAuthority) (\(detail)): ca.pem in \(source) must be the CA that signed the engine's --tlscert"
        case CURLE_SSL_CACERT_BADFILE:
            return
                "the CA file \(files.certificateAuthority) could not be read (\(detail)): \(source) must hold the engine's CA as ca.pem"
        case CURLE_SSL_CERTPROBLEM:
            return
                "the client certificate or its key in \(source) could not be used (\(detail)): it must hold them as cert.pem and key.pem, both PEM"
        case CURLE_SSL_CONNECT_ERROR where message.contains("wrong version number"):
            return
                "the engine does not speak TLS on that port (\(detail)): it may listen without TLS (unset DOCKER_TLS_VERIFY), or TLS may be on another port (2376 by convention)"
        case CURLE_SSL_CONNECT_ERROR:
            return
                "the handshake did not complete (\(detail)): check that the engine listens with TLS on that port, and the files in \(source)"
        default:
            return nil
        }
    }

    /// What a transfer over ssh that failed says, with ssh's own words (what the last connection's command wrote on
    /// standard error: untrusted text, so control characters are removed and it is cut) and what to do.
    private func sshFailure(
        _ response: CurlResponse, destination: EngineEndpoint.SSHDestination, said lastError: String,
        timeout: Duration
    ) -> String {
        let said = Self.inert(lastError.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " / "))
        let via = "ssh to \(endpoint)"
        if response.code == CURLE_OPERATION_TIMEDOUT && said.isEmpty {
            return "\(via) gave no answer within \(timeout): check that the host is up and sshd answers there"
        }
        let advice: String
        if said.contains("Permission denied") || said.contains("Host key verification failed")
            || said.contains("passphrase")
        {
            advice =
                "diagnose runs ssh with BatchMode=yes: the host key must be known (ssh to it once) and a key usable without a prompt (ssh-agent)"
        } else if said.contains("command not found") || said.contains("No such file")
            || said.contains("unknown command")
        {
            advice = "the docker CLI (18.09 or later) must be on that host's PATH for 'docker system dial-stdio'"
        } else if said.contains("dial-stdio") || said.contains("Cannot connect to the Docker daemon") {
            advice = "the engine on that host did not answer docker system dial-stdio: is dockerd running there?"
        } else {
            advice = "try 'docker -H \(destination.address) version' by hand"
        }
        let detail = said.isEmpty ? response.message.truncated(to: 200) : said
        return "\(via) failed: \(detail): \(advice)"
    }

    /// Observed text made inert for a message: control characters removed, whitespace trimmed, cut.
    static func inert(_ text: String) -> String {
        let clean = String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return clean.trimmingWhitespace().truncated(to: 300)
    }

    /// The engine's `{"message": ...}` for an error, else the status; control characters removed and cut.
    static func engineMessage(_ body: [UInt8], status: Int) -> String {
        let parsed = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["message"] as? String
        let shown = inert(parsed ?? String(decoding: body.prefix(512), as: UTF8.self))
        return "HTTP \(status)" + (shown.isEmpty ? "" : ": \(shown)")
    }

    /// `?a=b&c=d`, each part percent-encoded.
    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let pairs = query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }
        return "?" + pairs.joined(separator: "&")
    }
}
