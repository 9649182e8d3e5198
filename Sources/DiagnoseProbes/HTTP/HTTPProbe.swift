import CCurlShim
import DiagnoseCompose
import DiagnosePlatform
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Requests a URL with libcurl and checks the status and the body; with `retries`, waits for a service to
/// become healthy as a compose healthcheck does.
///
/// Fails (the target is wrong): `connection-refused`, `unreachable`, `dns-failure`, `connect-timeout`, `timeout`,
/// `tls-failure`, `empty-reply`, `connection-reset`, `bad-reply`, `too-many-redirects`, `status`, `body-mismatch`.
/// Errors (the probe cannot tell): `bad-argument`, `cancelled`, `curl-error`.
public struct HTTPProbe: Probe {
    /// Why a request did not pass.
    public enum Cause: String, Sendable {
        /// Nothing listens on the port: the connection was actively refused.
        case connectionRefused = "connection-refused"
        /// No route to the host or network.
        case unreachable
        /// The host name does not resolve.
        case dnsFailure = "dns-failure"
        /// The connection attempt got no answer in time.
        case connectTimeout = "connect-timeout"
        /// Connected, but the response did not complete in time.
        case timeout
        /// The TLS handshake or the certificate check failed.
        case tlsFailure = "tls-failure"
        /// The server closed the connection without sending anything.
        case emptyReply = "empty-reply"
        /// The connection was reset while sending or receiving.
        case connectionReset = "connection-reset"
        /// The server answered with something that is not valid HTTP, or cut its body short.
        case badReply = "bad-reply"
        /// Following redirects went on past the limit.
        case tooManyRedirects = "too-many-redirects"
        /// The status is not one of those expected.
        case status
        /// The body does not contain or match what was expected.
        case bodyMismatch = "body-mismatch"
        /// The URL cannot be requested as written (error).
        case badArgument = "bad-argument"
        /// The run was cancelled (error).
        case cancelled
        /// libcurl failed for a reason that says nothing about the target (error).
        case curlError = "curl-error"
        /// The network namespace of the `in:` service cannot be entered (error).
        case namespaceDenied = "namespace-denied"
    }

    /// A set of HTTP statuses: numbers and ranges.
    public struct StatusSet: Sendable, Hashable, CustomStringConvertible {
        /// The statuses, as ranges.
        public var ranges: [ClosedRange<Int>]

        /// Any 2xx status.
        public static let success = StatusSet(ranges: [200...299])

        /// A set of these ranges.
        public init(ranges: [ClosedRange<Int>]) { self.ranges = ranges }

        /// Parses items such as `200`, `200-299` or `2xx`; each item may also hold several, comma-separated.
        public init(parsing items: [String]) throws(ProbeArgumentError) {
            let parts = items.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace() }
            var ranges: [ClosedRange<Int>] = []
            for part in parts {
                guard let range = Self.range(part) else {
                    throw ProbeArgumentError(
                        "expect_status",
                        "expected a status (200), a range (200-299 or 2xx) or a list of them, got '\(part)'")
                }
                ranges.append(range)
            }
            guard !ranges.isEmpty else { throw ProbeArgumentError("expect_status", "names no status") }
            self.ranges = ranges
        }

        private static func range(_ text: String) -> ClosedRange<Int>? {
            let valid = 100...599
            let lower = text.lowercased()
            if lower.count == 3, lower.hasSuffix("xx"), let hundreds = Int(lower.prefix(1)), (1...5).contains(hundreds)
            {
                return hundreds * 100...hundreds * 100 + 99
            }
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map {
                Int($0.trimmingWhitespace())
            }
            switch bounds.count {
            case 1:
                guard let status = bounds[0], valid.contains(status) else { return nil }
                return status...status
            case 2:
                guard let low = bounds[0], let high = bounds[1], valid.contains(low), valid.contains(high), low <= high
                else { return nil }
                return low...high
            default:
                return nil
            }
        }

        /// Whether the status is in the set.
        public func contains(_ status: Int) -> Bool { ranges.contains { $0.contains(status) } }

        public var description: String {
            ranges.map { range in
                if range.count == 1 { return "\(range.lowerBound)" }
                if range.lowerBound % 100 == 0 && range.upperBound == range.lowerBound + 99 {
                    return "\(range.lowerBound / 100)xx"
                }
                return "\(range.lowerBound)-\(range.upperBound)"
            }.joined(separator: ", ")
        }
    }

    /// Body bytes read before the transfer is stopped: an endless body must not exhaust memory.
    public static let readLimit = 256 * 1024
    /// Body bytes shown in the evidence.
    public static let shownLimit = 2 * 1024
    /// A retry starts only when at least this much of the step's timeout is left.
    public static let shortestRetry: Duration = .milliseconds(100)

    /// The URL requested, `http://` or `https://`.
    public var url: String
    /// The method.
    public var method: String
    /// The statuses that pass.
    public var expectStatus: StatusSet
    /// Text the body must contain.
    public var bodyContains: String?
    /// A pattern the body must match.
    public var bodyMatches: Pattern?
    /// Request headers.
    public var headers: [String: String]
    /// Whether to follow redirects.
    public var followRedirects: Bool
    /// Tries counted before giving up; 1 means no retry.
    public var retries: Int
    /// The pause after a failed try.
    public var interval: Duration
    /// Failed tries that start within this time from the probe's start are not counted.
    public var startPeriod: Duration
    /// The limit of one try; nil means the step's timeout.
    public var attemptTimeout: Duration?
    /// The compose service whose container the requests are made from (`in:`), if any.
    public var service: String?
    /// Which compose project `in:` refers to.
    var selector: ComposeProject.Selector

    /// The methods a step may use.
    public static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Builds the probe from its arguments; the URL must be an absolute `http://` or `https://` URL.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        url = try arguments.requiredString("url").trimmingWhitespace()
        try Self.validate(url: url)
        method = try arguments.choice("method", Self.methods) ?? "GET"
        expectStatus =
            try arguments.strings("expect_status").map { items throws(ProbeArgumentError) in
                try StatusSet(parsing: items)
            } ?? .success
        bodyContains = try arguments.string("body_contains")
        bodyMatches = try arguments.pattern("body_matches")
        headers = try arguments.stringMap("headers") ?? [:]
        for (name, value) in headers {
            let token = name.utf8.allSatisfy { $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
            guard !name.isEmpty, token else {
                throw ProbeArgumentError("headers", "'\(name)' is not a valid header name")
            }
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw ProbeArgumentError("headers", "the value of '\(name)' contains a line break")
            }
        }
        followRedirects = try arguments.bool("follow_redirects") ?? false
        retries = try arguments.int("retries", in: 1...1000) ?? 1
        interval = try arguments.duration("interval") ?? .seconds(1)
        startPeriod = try arguments.duration("start_period") ?? .zero
        attemptTimeout = try arguments.duration("attempt_timeout")
        if attemptTimeout == .zero { throw ProbeArgumentError("attempt_timeout", "must be longer than 0ms") }
        service = try arguments.string("in")
        selector = try ComposeProject.Selector(arguments)
        if service == nil, let extra = ComposeProject.argumentNames.sorted().first(where: arguments.has) {
            throw ProbeArgumentError(extra, "only applies with 'in: SERVICE'")
        }
    }

    /// Checks that libcurl can request the URL, without showing its password in the message.
    static func validate(url: String) throws(ProbeArgumentError) {
        // Checked without libcurl, so that `diagnose validate` and start-up never load it; libcurl's own parser
        // judges the URL again when the request is made (CURLE_URL_MALFORMAT is a bad-argument error then).
        func shown() -> String { Redactor.standard.redact(url) }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ProbeArgumentError("url", "expected an http:// or https:// URL, got '\(shown())'")
        }
        guard !url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }),
            let parts = URLComponents(string: url)
        else {
            throw ProbeArgumentError("url", "'\(shown())' is not a valid URL")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw ProbeArgumentError("url", "'\(shown())' names no host")
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let (vantage, refusal) = await ContainerVantage.standpoint(service, selector: selector, context: context)
        if let refusal { return refusal }
        let standpoint = vantage
        let flag = CancellationFlag()
        var observation = await withTaskCancellationHandler {
            await poll(context, vantage: standpoint, cancellation: [flag, context.cancellation])
        } onCancel: {
            flag.cancel()
        }
        if let standpoint { observation.evidence.insert(standpoint.description, at: 0) }
        let secrets = self.secrets
        observation.summary = secrets.redact(observation.summary)
        observation.evidence = observation.evidence.map(secrets.redact)
        return observation
    }

    /// Tries until a try passes, the counted tries run out, or the step's timeout leaves no time for another.
    func poll(_ context: ProbeContext, vantage: ContainerVantage?, cancellation: [CancellationFlag]) async
        -> Observation
    {
        let clock = ContinuousClock()
        let began = clock.now
        let deadline = began.advanced(by: context.timeout)
        let startPeriodEnds = began.advanced(by: startPeriod)
        let waits = retries > 1 || startPeriod > .zero
        var history: [String] = []
        var counted = 0
        while true {
            let tryBegan = clock.now
            let left = history.isEmpty ? context.timeout : tryBegan.duration(to: deadline)
            let budget = min(attemptTimeout ?? context.timeout, left)
            var observation = await attempt(budget: budget, vantage: vantage, cancellation: cancellation)
            history.append("\(history.count + 1) \(observation.cause ?? "pass")")
            let inStartPeriod = tryBegan < startPeriodEnds
            if !inStartPeriod { counted += 1 }
            let elapsed = began.duration(to: clock.now)
            let uncounted = history.count - counted
            let startNote =
                uncounted > 0 ? " (\(uncounted) in the \(startPeriod.shortDescription) start period, not counted)" : ""

            switch observation.outcome {
            case .pass:
                if waits {
                    let tally =
                        "passed on try \(history.count) of \(retries + uncounted)\(startNote) after \(Self.seconds(elapsed))"
                    if history.count > 1 { observation.summary += ", on try \(history.count)" }
                    observation.evidence.append(tally)
                }
                return observation
            case .error:
                if history.count > 1 { observation.evidence.append(Self.tries(history)) }
                return observation
            case .fail:
                break
            }
            let triesOver = "\(history.count) \(history.count == 1 ? "try" : "tries") over \(Self.seconds(elapsed))"
            var ending: String?
            if counted >= retries {
                ending = "failed \(triesOver)\(startNote)"
            } else if clock.now.advanced(by: interval).duration(to: deadline) < Self.shortestRetry {
                ending =
                    "failed \(triesOver)\(startNote); the step's timeout of \(context.timeout.shortDescription) "
                    + "leaves no time for try \(history.count + 1)"
            }
            if let ending {
                guard waits else { return observation }
                observation.summary += " (\(triesOver))"
                observation.evidence += [ending, Self.tries(history)]
                return observation
            }
            guard await Self.sleep(for: interval, cancellation: cancellation) else {
                return .error(
                    Cause.cancelled.rawValue, "stopped waiting for \(shownURL): the run was cancelled",
                    evidence: [Self.tries(history)])
            }
        }
    }

    /// One request within the budget, judged.
    func attempt(budget: Duration, vantage: ContainerVantage?, cancellation: [CancellationFlag]) async -> Observation {
        var request = CurlRequest(
            url: url, method: method, headers: headers.sorted { $0.key < $1.key }.map(Self.headerLine),
            followRedirects: followRedirects, timeout: budget, readLimit: Self.readLimit)
        if let vantage, let parts = URLComponents(string: url), let host = parts.host {
            let port = parts.port ?? (parts.scheme == "https" ? 443 : 80)
            if let problem = vantage.unresolved(host) {
                return .fail(
                    Cause.dnsFailure.rawValue, "\(host) does not resolve \(vantage.description)",
                    evidence: ["\(method) \(shownURL)", "resolver: \(problem)"])
            }
            request.resolve = vantage.curlResolveEntries(host: host, port: port) ?? []
        }
        let prepared = request
        let outcome: Result<CurlResponse, NamespaceDenied> = await offload {
            // The transfer's own thread enters the container's network namespace; it ends with the transfer.
            if let vantage, let problem = vantage.enter() { return .failure(NamespaceDenied(message: problem)) }
            return .success(Curl.perform(prepared, cancellation: cancellation))
        }
        switch outcome {
        case .failure(let denied): return .error(Cause.namespaceDenied.rawValue, denied.message)
        case .success(let response): return judge(response, budget: budget)
        }
    }

    /// Turns a finished transfer into an observation: libcurl's failures into causes, then status and body.
    func judge(_ response: CurlResponse, budget: Duration) -> Observation {
        var evidence = ["\(method) \(shownURL)"]
        evidence += headers.keys.sorted().map { name in
            "header \(name): \(Self.isSecretHeader(name) ? Redactor.mask : headers[name] ?? "")"
        }
        let target = Self.target(of: url)
        if response.cancelled || response.code == CURLE_ABORTED_BY_CALLBACK {
            return .error(
                Cause.cancelled.rawValue, "the request to \(shownURL) was stopped: the run was cancelled",
                evidence: evidence)
        }
        if !response.isComplete {
            evidence.append("curl: \(response.message) (code \(response.code.rawValue))")
            evidence.append(timingLine(response))
            let (cause, summary) = failure(response, target: target, budget: budget)
            evidence += bodyEvidence(response)
            switch cause {
            case .badArgument, .cancelled, .curlError: return .error(cause.rawValue, summary, evidence: evidence)
            default: return .fail(cause.rawValue, summary, evidence: evidence)
            }
        }

        evidence.append("HTTP \(response.status)" + (response.peer.map { " from \($0)" } ?? ""))
        evidence.append(timingLine(response))
        if response.redirectCount > 0, let effective = response.effectiveURL {
            evidence.append("followed \(response.redirectCount) redirect(s) to \(effective)")
        } else if let location = response.redirectURL {
            evidence.append(
                "redirects to \(location) (not followed; set follow_redirects: true to follow)")
        }
        evidence += bodyEvidence(response)
        let answered =
            "\(method) \(shownURL) answered \(response.status) in \(Self.milliseconds(response.timing.total))"
        guard expectStatus.contains(response.status) else {
            let excerpt = Self.text(response.body).firstLine.truncated(to: 120)
            return .fail(
                Cause.status.rawValue,
                "\(answered), expected \(expectStatus)" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                evidence: evidence)
        }
        let body = Self.text(response.body)
        let partly = response.stoppedAtLimit ? " (judged on its first \(Self.readLimit / 1024) KiB)" : ""
        if let bodyContains, !body.contains(bodyContains) {
            return .fail(
                Cause.bodyMismatch.rawValue, "\(answered) but the body does not contain '\(bodyContains)'\(partly)",
                evidence: evidence)
        }
        if let bodyMatches, !bodyMatches.matches(body) {
            return .fail(
                Cause.bodyMismatch.rawValue, "\(answered) but the body does not match /\(bodyMatches.source)/\(partly)",
                evidence: evidence)
        }
        return .pass(answered, evidence: evidence)
    }

    /// The cause and summary of a transfer libcurl could not complete.
    func failure(_ response: CurlResponse, target: String, budget: Duration) -> (Cause, String) {
        let limit = budget.shortDescription
        switch response.code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return (.dnsFailure, "cannot resolve the host of \(shownURL): \(response.message)")
        case CURLE_COULDNT_CONNECT:
            switch response.osErrno {
            case ECONNREFUSED:
                return (.connectionRefused, "connection to \(target) refused: nothing listens there")
            case ETIMEDOUT:
                return (.connectTimeout, "no connection to \(target): the connection attempt timed out")
            default:
                return (.unreachable, "cannot connect to \(target): \(response.message)")
            }
        case CURLE_OPERATION_TIMEDOUT:
            // libcurl counts a connection as made only after TLS, so a TCP connection is seen in the count.
            guard response.timing.connect > 0 || response.connections > 0 else {
                return (
                    .connectTimeout, "no connection to \(target) within \(limit): the connection attempt got no answer"
                )
            }
            let stage =
                if response.status > 0 {
                    "the body did not finish"
                } else if response.timing.firstByte > 0 {
                    "the headers did not finish"
                } else if url.lowercased().hasPrefix("https://") && response.timing.tlsHandshake == 0 {
                    "the TLS handshake did not finish"
                } else {
                    "no response arrived"
                }
            return (.timeout, "connected to \(target) but \(stage) within \(limit)")
        case CURLE_GOT_NOTHING:
            return (.emptyReply, "\(target) closed the connection without answering")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED:
            return (.tlsFailure, "TLS with \(target) failed: \(response.message)")
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            return (.connectionReset, "the connection to \(target) broke: \(response.message)")
        case CURLE_WEIRD_SERVER_REPLY, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING:
            return (.badReply, "\(target) did not answer with valid HTTP: \(response.message)")
        case CURLE_UNSUPPORTED_PROTOCOL where followRedirects && !response.message.contains("HTTP/0.9"):
            // The URL was checked to be http(s), so a redirect led elsewhere.
            return (.badReply, "\(shownURL) redirected to a URL that is not http or https: \(response.message)")
        case CURLE_UNSUPPORTED_PROTOCOL:
            // The URL was checked to be http(s): libcurl refused the answer, which has no status line
            // ("Received HTTP/0.9 when not allowed"): random bytes, or another protocol such as Redis.
            return (.badReply, "\(target) did not answer with valid HTTP: \(response.message)")
        case CURLE_TOO_MANY_REDIRECTS:
            return (.tooManyRedirects, "\(shownURL) redirected more than \(CurlRequest.maximumRedirects) times")
        case CURLE_URL_MALFORMAT:
            return (.badArgument, "libcurl cannot request \(shownURL): \(response.message)")
        default:
            return (.curlError, "the request to \(shownURL) failed in libcurl: \(response.message)")
        }
    }

    /// The phases' times, each measured from the start of the request.
    func timingLine(_ response: CurlResponse) -> String {
        let timing = response.timing
        var phases = [("dns", timing.nameLookup), ("connect", timing.connect)]
        if url.lowercased().hasPrefix("https://") { phases.append(("tls", timing.tlsHandshake)) }
        phases += [("first byte", timing.firstByte), ("total", timing.total)]
        let shown = phases.map { name, time in
            let value = time > 0 || name == "total" ? Self.milliseconds(time) : "-"
            return "\(name) \(value)"
        }
        return "timing: " + shown.joined(separator: ", ") + " (each since the request began)"
    }

    /// The first bytes of the body and how much was read.
    func bodyEvidence(_ response: CurlResponse) -> [String] {
        let body = response.body
        guard !body.isEmpty else { return response.isComplete && method != "HEAD" ? ["body: empty"] : [] }
        // Redacted before it is cut, with a margin: a secret cut in half would no longer match.
        let margin = Self.text(Array(body.prefix(Self.shownLimit + 1024)))
        let shown = String(Redactor.standard.redact(margin).prefix(Self.shownLimit))
        if response.stoppedAtLimit {
            return [
                "body (first \(min(body.count, Self.shownLimit)) bytes shown; stopped reading at the "
                    + "\(Self.readLimit / 1024) KiB limit, \(body.count) bytes read): \(shown)"
            ]
        }
        if body.count > Self.shownLimit {
            return ["body (first \(Self.shownLimit) of \(body.count) bytes): \(shown)"]
        }
        return ["body (\(body.count) bytes): \(shown)"]
    }

    /// The URL as it may be shown.
    var shownURL: String { Redactor.standard.redact(url) }

    /// Hides the URL's password (also as curl sends it, in Basic authentication) and secret header values.
    var secrets: Redactor {
        var redactor = Redactor.standard
        if let password = Redactor.urlPassword(url) {
            redactor.add(password)
            redactor.add(password.removingPercentEncoding ?? password)
            if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") {
                let userinfo = String(url[scheme.upperBound..<at])
                redactor.add(Data((userinfo.removingPercentEncoding ?? userinfo).utf8).base64EncodedString())
            }
        }
        for (name, value) in headers where Self.isSecretHeader(name) {
            redactor.add(value)
            if let credential = value.split(separator: " ").last { redactor.add(String(credential)) }
        }
        return redactor
    }

    static func isSecretHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return Redactor.isSecretName(name) || lower.contains("auth") || lower.contains("cookie")
    }

    static func headerLine(_ header: (key: String, value: String)) -> String {
        // curl drops a header given as `Name:`; `Name;` sends it with an empty value.
        header.value.isEmpty ? "\(header.key);" : "\(header.key): \(header.value)"
    }

    /// `host:port` of a URL, with the scheme's default port, for messages.
    static func target(of url: String) -> String {
        guard let parsed = ccurl_url() else { return url }
        defer { ccurl_url_cleanup(parsed) }
        var host: UnsafeMutablePointer<CChar>?
        var port: UnsafeMutablePointer<CChar>?
        defer {
            ccurl_free(host)
            ccurl_free(port)
        }
        guard ccurl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK,
            ccurl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK, let host,
            ccurl_url_get(parsed, CURLUPART_PORT, &port, UInt32(CURLU_DEFAULT_PORT)) == CURLUE_OK, let port
        else { return Redactor.standard.redact(url) }
        return "\(String(cString: host)):\(String(cString: port))"
    }

    static func tries(_ history: [String]) -> String {
        let shown = history.suffix(20)
        let hidden = history.count - shown.count
        return "tries: " + (hidden > 0 ? "(\(hidden) earlier not shown) " : "") + shown.joined(separator: ", ")
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func milliseconds(_ microseconds: Int64) -> String {
        microseconds >= 10_000
            ? "\(microseconds / 1000) ms" : "\(Double(microseconds / 100) / 10) ms"
    }

    static func seconds(_ duration: Duration) -> String {
        "\(Double(duration.milliseconds / 100) / 10)s"
    }

    /// Sleeps, waking early when cancelled; false when cancelled.
    static func sleep(for duration: Duration, cancellation: [CancellationFlag]) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: duration)
        while clock.now < end {
            if cancellation.contains(where: \.isCancelled) || Task.isCancelled { return false }
            try? await Task.sleep(for: min(.milliseconds(50), clock.now.duration(to: end)))
        }
        return !cancellation.contains(where: \.isCancelled) && !Task.isCancelled
    }
}

extension ProbeKind {
    /// `http`: requests a URL and checks its status and body, optionally waiting until it passes.
    public static let http = ProbeKind(
        name: "http", required: ["url"],
        optional: Set<String>([
            "method", "expect_status", "body_contains", "body_matches", "headers", "follow_redirects", "retries",
            "interval", "start_period", "attempt_timeout", "in",
        ]).union(ComposeProject.argumentNames)
    ) { arguments throws(ProbeArgumentError) in try HTTPProbe(arguments) }
}

/// Why a probe could not stand inside a container's network namespace.
struct NamespaceDenied: Error {
    var message: String
}
