import CCurlShim
import Foundation

/// One HTTP request as libcurl should make it.
package struct CurlRequest: Sendable {
    /// The URL, with the scheme.
    package var url: String
    /// The method; `HEAD` asks for no body.
    package var method: String = "GET"
    /// Header lines, `Name: value`.
    package var headers: [String] = []
    /// Whether to follow `Location` (at most `maximumRedirects` times).
    package var followRedirects = false
    /// The limit for connecting and for the whole transfer; libcurl enforces both.
    package var timeout: Duration
    /// Body bytes read before the transfer is stopped on purpose.
    package var readLimit: Int
    /// Pinned name resolutions, `host:port:address` (CURLOPT_RESOLVE), for names only a compose network knows.
    package var resolve: [String] = []

    /// A unix socket to talk HTTP over instead of TCP (CURLOPT_UNIX_SOCKET_PATH); the URL's host is then a label.
    package var unixSocketPath: String?
    /// The request body, sent for a method other than GET or HEAD.
    package var body: [UInt8]?
    /// TLS files for an https URL: the CA to trust instead of the system's, the client certificate and its key.
    package var tlsFiles: CurlTLSFiles?
    /// Whether to keep the response's header lines.
    package var keepHeaders = false
    /// Connections to take and leave open for the next request; nil opens one for this request and closes it after,
    /// as a probe that checks a server wants.
    package var connectionPool: CurlConnectionPool?

    /// Redirects followed at most, when following.
    package static let maximumRedirects = 10

    /// A request with the given parts; the others keep their defaults.
    package init(
        url: String, method: String = "GET", headers: [String] = [], followRedirects: Bool = false,
        timeout: Duration, readLimit: Int, resolve: [String] = []
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.followRedirects = followRedirects
        self.timeout = timeout
        self.readLimit = readLimit
        self.resolve = resolve
    }
}

/// PEM files for a TLS connection that proves who the client is, as the docker CLI's DOCKER_CERT_PATH holds them.
package struct CurlTLSFiles: Sendable, Hashable {
    /// The CA certificate the server's certificate must chain to, trusted instead of the system's CAs.
    package var certificateAuthority: String
    /// The client's certificate; nil presents none.
    package var certificate: String?
    /// The client certificate's private key; nil when it is in `certificate`, or when no certificate is presented.
    package var key: String?

    /// The CA and, if the client presents one, its certificate and key.
    package init(certificateAuthority: String, certificate: String?, key: String?) {
        self.certificateAuthority = certificateAuthority
        self.certificate = certificate
        self.key = key
    }
}

/// Connections kept open between requests and taken by the requests given this pool, on any thread: libcurl's share
/// interface with its connection cache, locked by a mutex per kind of shared data. A transfer that ends early
/// (cancelled, stopped at its read limit, timed out) has its connection closed by libcurl rather than left here, so
/// no request ever reads the rest of another's answer. The connections close when the last reference to the pool goes.
package final class CurlConnectionPool: @unchecked Sendable {
    // Never changed after init; the cache behind it is touched only by libcurl, under the pool's own locks.
    fileprivate let connections: OpaquePointer?
    /// Where the pool's connections go instead of the URL's host: each is handed to a command as its standard input
    /// and output (`ssh HOST docker system dial-stdio`). Kept until the connections are closed (in deinit, by the
    /// share's cleanup).
    package let dialer: CommandDialer?

    /// Connections kept at most, in use or not; beyond it libcurl closes the oldest idle one.
    package static let maximumConnections = 32

    /// An empty pool; without libcurl, one that keeps nothing. With a `dialer`, every request using the pool makes its
    /// connections through it.
    package init(dialer: CommandDialer? = nil) {
        connections = ccurl_connections_new()
        self.dialer = dialer
    }

    deinit {
        // Each request holds the pool until its handle is cleaned up, so no handle uses the cache by now.
        _ = ccurl_connections_free(connections)
    }
}

/// Times libcurl measured, in microseconds since the transfer began; 0 for a phase never reached.
package struct CurlTiming: Sendable, Hashable {
    /// The name was resolved.
    package var nameLookup: Int64 = 0
    /// The TCP connection was made.
    package var connect: Int64 = 0
    /// The TLS handshake was done.
    package var tlsHandshake: Int64 = 0
    /// The first byte of the response arrived.
    package var firstByte: Int64 = 0
    /// The transfer ended.
    package var total: Int64 = 0
}

/// What one libcurl transfer did.
package struct CurlResponse: Sendable {
    /// libcurl's result.
    package var code: CURLcode
    /// libcurl's explanation of a failure, from its error buffer; empty on success.
    package var message: String
    /// The HTTP status, 0 when none arrived.
    package var status: Int
    /// The errno of the last failed socket operation, 0 when none.
    package var osErrno: Int32
    /// The address and port connected to (or last tried), if any.
    package var peer: String?
    /// Where a redirect points when it was not followed.
    package var redirectURL: String?
    /// The URL finally requested, after followed redirects.
    package var effectiveURL: String?
    /// Redirects followed.
    package var redirectCount: Int
    /// New connections made; 0 when none was ever established.
    package var connections: Int
    /// The phases' times.
    package var timing: CurlTiming
    /// The body, up to the read limit.
    package var body: [UInt8]
    /// The response's header lines (the last response's, after redirects), when the request kept them.
    package var headers: [String] = []
    /// The server sent more than the read limit and the transfer was stopped there.
    package var stoppedAtLimit: Bool
    /// The transfer was stopped because the run was cancelled.
    package var cancelled: Bool

    /// The body stopped at the read limit is a complete enough answer to judge.
    package var isComplete: Bool { code == CURLE_OK || (code == CURLE_WRITE_ERROR && stoppedAtLimit) }
}

/// Blocking libcurl transfers; run them with `offload`.
package enum Curl {
    /// libcurl's one-time global setup; Swift runs a static initializer once, thread-safely.
    private static let globalInit: CURLcode = ccurl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Makes the request on the calling thread, honouring the flags within about a second.
    package static func perform(_ request: CurlRequest, cancellation: [CancellationFlag]) -> CurlResponse {
        let state = TransferState(readLimit: request.readLimit, cancellation: cancellation)
        var response = CurlResponse(
            code: globalInit, message: "", status: 0, osErrno: 0, redirectCount: 0, connections: 0,
            timing: CurlTiming(), body: [],
            stoppedAtLimit: false, cancelled: false)
        guard globalInit == CURLE_OK else {
            response.message = ccurl_load_error().map { String(cString: $0) } ?? "libcurl could not be initialised"
            return response
        }
        guard let handle = ccurl_easy_init() else {
            response.code = CURLE_FAILED_INIT
            response.message = "libcurl could not create a handle"
            return response
        }
        // The pool, if any, must outlive the handle that uses its cache.
        defer { withExtendedLifetime(request.connectionPool) { ccurl_easy_cleanup(handle) } }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { ccurl_slist_free_all(headerList) }
        for line in request.headers { headerList = ccurl_slist_append(headerList, line) }
        var resolveList: UnsafeMutablePointer<curl_slist>?
        defer { ccurl_slist_free_all(resolveList) }
        for entry in request.resolve { resolveList = ccurl_slist_append(resolveList, entry) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        errorBuffer[0] = 0

        let milliseconds = max(1, request.timeout.milliseconds)
        let context = Unmanaged.passUnretained(state).toOpaque()
        var setup: [CURLcode] = [
            ccurl_set_string(handle, CURLOPT_URL, request.url),
            // The probe checks the target itself: a proxy from the environment would hide its failures.
            ccurl_set_string(handle, CURLOPT_PROXY, ""),
            ccurl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            ccurl_set_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
            ccurl_set_string(handle, CURLOPT_USERAGENT, "diagnose"),
            ccurl_set_long(handle, CURLOPT_NOSIGNAL, 1),
            ccurl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds),
            ccurl_set_long(handle, CURLOPT_TIMEOUT_MS, milliseconds),
            ccurl_set_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0),
            ccurl_set_long(handle, CURLOPT_MAXREDIRS, request.followRedirects ? CurlRequest.maximumRedirects : 0),
            ccurl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            ccurl_set_slist(handle, CURLOPT_HTTPHEADER, headerList),
            ccurl_set_slist(handle, CURLOPT_RESOLVE, resolveList),
            ccurl_set_write_callback(handle, receiveBody, context),
            ccurl_set_progress_callback(handle, checkCancellation, context),
        ]
        if let path = request.unixSocketPath { setup.append(ccurl_set_string(handle, CURLOPT_UNIX_SOCKET_PATH, path)) }
        if let dialer = request.connectionPool?.dialer {
            setup.append(ccurl_set_string(handle, CURLOPT_UNIX_SOCKET_PATH, dialer.socketPath))
        }
        if let connections = request.connectionPool?.connections {
            setup += [
                ccurl_set_connections(handle, connections),
                // The limit counts connections in use too: at libcurl's default (5), a sixth concurrent request
                // would close the connection it just left, and requests on many threads would reuse none.
                ccurl_set_long(handle, CURLOPT_MAXCONNECTS, CurlConnectionPool.maximumConnections),
            ]
        }
        if let files = request.tlsFiles {
            setup += [
                ccurl_set_string(handle, CURLOPT_CAINFO, files.certificateAuthority),
                // libcurl also trusts its built-in CA folder (here /etc/ssl/certs) beside CAINFO: without this, any
                // public CA's certificate for the name would pass, where the docker CLI trusts ca.pem alone.
                ccurl_set_string(handle, CURLOPT_CAPATH, nil),
            ]
            if let certificate = files.certificate {
                setup.append(ccurl_set_string(handle, CURLOPT_SSLCERT, certificate))
            }
            if let key = files.key { setup.append(ccurl_set_string(handle, CURLOPT_SSLKEY, key)) }
        }
        if request.keepHeaders { setup.append(ccurl_set_header_callback(handle, receiveHeader, context)) }
        let body = request.body ?? []
        let bodyBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, body.count))
        defer { bodyBuffer.deallocate() }
        bodyBuffer.initialize(from: body, count: body.count)
        if request.body != nil {
            setup += [
                ccurl_set_long(handle, CURLOPT_POSTFIELDSIZE, body.count),
                ccurl_set_pointer(handle, CURLOPT_POSTFIELDS, bodyBuffer),
            ]
        }
        switch request.method {
        case "GET": break
        case "HEAD": setup.append(ccurl_set_long(handle, CURLOPT_NOBODY, 1))
        default: setup.append(ccurl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let failed = setup.first(where: { $0 != CURLE_OK }) {
            response.code = failed
            response.message = String(cString: ccurl_easy_strerror(failed))
            return response
        }

        response.code = withExtendedLifetime(state) { ccurl_easy_perform(handle) }
        if response.code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            response.message = detail.isEmpty ? String(cString: ccurl_easy_strerror(response.code)) : detail
        }
        response.status = Int(long(handle, CURLINFO_RESPONSE_CODE))
        response.osErrno = Int32(truncatingIfNeeded: long(handle, CURLINFO_OS_ERRNO))
        response.redirectCount = Int(long(handle, CURLINFO_REDIRECT_COUNT))
        response.connections = Int(long(handle, CURLINFO_NUM_CONNECTS))
        if let address = string(handle, CURLINFO_PRIMARY_IP), !address.isEmpty {
            let port = long(handle, CURLINFO_PRIMARY_PORT)
            response.peer = address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
        }
        response.redirectURL = string(handle, CURLINFO_REDIRECT_URL)
        response.effectiveURL = string(handle, CURLINFO_EFFECTIVE_URL)
        response.timing = CurlTiming(
            nameLookup: offset(handle, CURLINFO_NAMELOOKUP_TIME_T), connect: offset(handle, CURLINFO_CONNECT_TIME_T),
            tlsHandshake: offset(handle, CURLINFO_APPCONNECT_TIME_T),
            firstByte: offset(handle, CURLINFO_STARTTRANSFER_TIME_T), total: offset(handle, CURLINFO_TOTAL_TIME_T))
        response.body = state.body
        response.headers = state.headers
        response.stoppedAtLimit = state.stoppedAtLimit
        response.cancelled = state.cancelled
        return response
    }

    private static func long(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Int {
        var value = 0
        return ccurl_get_long(handle, info, &value) == CURLE_OK ? value : 0
    }

    private static func offset(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        return ccurl_get_off_t(handle, info, &value) == CURLE_OK ? Int64(value) : 0
    }

    private static func string(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard ccurl_get_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }
}

/// The state the C callbacks share during one transfer, on the transfer's thread only.
private final class TransferState {
    let readLimit: Int
    let cancellation: [CancellationFlag]
    var body: [UInt8] = []
    var headers: [String] = []
    var stoppedAtLimit = false
    var cancelled = false

    init(readLimit: Int, cancellation: [CancellationFlag]) {
        self.readLimit = readLimit
        self.cancellation = cancellation
    }

    var isCancelled: Bool {
        if !cancelled && cancellation.contains(where: \.isCancelled) { cancelled = true }
        return cancelled
    }

    /// Keeps body bytes up to the limit; a short count past it makes libcurl stop the transfer.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Int {
        if isCancelled { return 0 }
        let room = readLimit - body.count
        guard bytes.count > room else {
            body.append(contentsOf: bytes)
            return bytes.count
        }
        body.append(contentsOf: bytes.prefix(room))
        stoppedAtLimit = true
        return 0
    }
}

private let receiveBody: ccurl_write_callback = { data, size, count, context in
    guard let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    return state.receive(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let receiveHeader: ccurl_write_callback = { data, size, count, context in
    guard let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    // A new status line starts a new response (a redirect or a 100 Continue): keep only the last one's headers.
    let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") { state.headers.removeAll() }
    if !line.isEmpty && state.headers.count < 200 { state.headers.append(line) }
    return bytes.count
}

private let checkCancellation: ccurl_progress_callback = { context, _, _, _, _ in
    guard let context else { return 0 }
    return Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue().isCancelled ? 1 : 0
}
