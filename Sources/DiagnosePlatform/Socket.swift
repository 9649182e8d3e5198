import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// When network work must stop: a point in time, or a cancellation, whichever comes first.
///
/// Blocking calls take one and wait in slices of at most 50 ms, so a cancellation is seen promptly.
public struct NetworkDeadline: Sendable {
    /// The instant the work must end by.
    public var end: ContinuousClock.Instant
    /// Flags that stop the work when any is set.
    public var cancellation: [CancellationFlag]

    /// A deadline `timeout` from now.
    public init(after timeout: Duration, cancellation: [CancellationFlag] = []) {
        end = ContinuousClock.now.advanced(by: timeout)
        self.cancellation = cancellation
    }

    /// Whether the work was asked to stop.
    public var isCancelled: Bool { cancellation.contains(where: \.isCancelled) }

    /// Time left, never negative.
    public var remaining: Duration { max(.zero, ContinuousClock.now.duration(to: end)) }

    /// Milliseconds to wait in one slice: the time left, but at most 50 ms so cancellation is checked.
    var slice: Int32 { Int32(min(50, remaining.milliseconds)) }

    /// Runs blocking network work on its own thread with a deadline `timeout` from now, which `cancellation` and
    /// the calling task's cancellation both end.
    public static func offloaded<T: Sendable>(
        timeout: Duration, cancellation: CancellationFlag, _ work: @escaping @Sendable (NetworkDeadline) -> T
    ) async -> T {
        let flag = CancellationFlag()
        let deadline = NetworkDeadline(after: timeout, cancellation: [flag, cancellation])
        return await withTaskCancellationHandler {
            await offload { work(deadline) }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// Why a network exchange did not complete.
public enum NetworkFailure: Error, Sendable, Hashable {
    /// The name did not resolve; the message is the resolver's (`gai_strerror`).
    case dnsFailure(message: String)
    /// The resolver gave no answer before the deadline.
    case dnsTimeout
    /// Every address refused the connection.
    case refused
    /// No address accepted the connection before the deadline.
    case connectTimeout
    /// Connecting failed for another reason (unreachable network or host, ...).
    case connectFailed(message: String)
    /// No complete reply arrived before the deadline.
    case replyTimeout
    /// The peer closed the connection before a complete reply.
    case closed
    /// The connection broke (reset by the peer, ...).
    case broken(message: String)
    /// The run was cancelled.
    case cancelled

    /// The cause code an observation reports for this failure.
    public var cause: String {
        switch self {
        case .dnsFailure: return "dns-failure"
        case .dnsTimeout: return "dns-timeout"
        case .refused: return "connection-refused"
        case .connectTimeout: return "connect-timeout"
        case .connectFailed: return "connect-failed"
        case .replyTimeout: return "reply-timeout"
        case .closed: return "connection-closed"
        case .broken: return "connection-reset"
        case .cancelled: return "cancelled"
        }
    }
}

/// A resolved socket address.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The raw address.
    var storage: sockaddr_storage
    /// The length of the raw address.
    var length: socklen_t
    /// The numeric host, e.g. `127.0.0.1` or `::1`.
    public let host: String
    /// The port.
    public let port: Int

    /// `127.0.0.1:6379` or `[::1]:6379`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var family: Int32 { Int32(storage.ss_family) }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }

    /// The canonical numeric form of an IPv4 or IPv6 address, or nil when the text is not one.
    public static func canonical(_ text: String) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(text, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        return SocketAddress(first.pointee)?.host
    }

    init?(_ info: addrinfo) {
        guard let address = info.ai_addr, info.ai_addrlen <= MemoryLayout<sockaddr_storage>.size else { return nil }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))
        }
        var hostBuffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var portBuffer = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = getnameinfo(
            address, info.ai_addrlen, &hostBuffer, socklen_t(hostBuffer.count), &portBuffer,
            socklen_t(portBuffer.count), NI_NUMERICHOST | NI_NUMERICSERV)
        guard status == 0 else { return nil }
        self.storage = storage
        length = info.ai_addrlen
        host = String(decoding: hostBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = Int(String(decoding: portBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) ?? 0
    }
}

/// Name resolution bounded by a deadline.
public enum Resolver {
    /// The TCP addresses of `host` (a name or a numeric address), in the resolver's order, without duplicates.
    ///
    /// `getaddrinfo` cannot be interrupted, so it runs on a thread of its own; when the deadline comes first the
    /// lookup is abandoned to finish on that thread, and the caller gets `dnsTimeout`.
    public static func resolve(
        _ host: String, port: Int, deadline: NetworkDeadline
    ) -> Result<[SocketAddress], NetworkFailure> {
        let answer = Mutex<Result<[SocketAddress], NetworkFailure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let lookup = Thread {
            answer.withLock { $0 = lookupBlocking(host, port: port) }
            done.signal()
        }
        lookup.stackSize = 1 << 19
        lookup.start()
        while true {
            if done.wait(timeout: .now() + .milliseconds(Int(max(1, deadline.slice)))) == .success {
                return answer.withLock { $0 } ?? .failure(.dnsFailure(message: "no answer"))
            }
            if deadline.isCancelled { return .failure(.cancelled) }
            if deadline.remaining == .zero { return .failure(.dnsTimeout) }
        }
    }

    package static func lookupBlocking(_ host: String, port: Int) -> Result<[SocketAddress], NetworkFailure> {
        guard !host.isEmpty, !host.utf8.contains(0) else { return .failure(.dnsFailure(message: "empty host name")) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            var message = String(cString: gai_strerror(status))
            if status == EAI_SYSTEM { message += ": " + String(cString: strerror(errno)) }
            return .failure(.dnsFailure(message: message))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next = list
        while let entry = next {
            if let address = SocketAddress(entry.pointee), !addresses.contains(address) { addresses.append(address) }
            next = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.dnsFailure(message: "no addresses")) : .success(addresses)
    }
}

/// A connected, non-blocking TCP socket whose every wait is bounded by a deadline. Closed on deinit.
public final class TCPConnection {
    /// The address connected to.
    public let address: SocketAddress
    private let fd: Int32

    private init(fd: Int32, address: SocketAddress) {
        self.fd = fd
        self.address = address
    }

    deinit { close(fd) }

    /// One connection attempt per address, in order, until one is accepted or the deadline passes.
    /// `attempts` receives a line per address that failed.
    public static func connect(
        to addresses: [SocketAddress], deadline: NetworkDeadline, attempts: inout [String]
    ) -> Result<TCPConnection, NetworkFailure> {
        var last = NetworkFailure.refused
        for address in addresses {
            switch connectOne(address, deadline: deadline) {
            case .success(let connection): return .success(connection)
            case .failure(let failure):
                switch failure {
                case .refused: attempts.append("\(address): connection refused")
                case .connectTimeout: attempts.append("\(address): no answer to the connection request")
                case .connectFailed(let message): attempts.append("\(address): \(message)")
                default: break
                }
                if failure == .cancelled { return .failure(failure) }
                // A timeout on any address means the deadline is spent: report it rather than an earlier refusal.
                if failure == .connectTimeout || last != .connectTimeout { last = failure }
                if deadline.remaining == .zero { return .failure(last) }
            }
        }
        return .failure(last)
    }

    static func connectOne(_ address: SocketAddress, deadline: NetworkDeadline) -> Result<TCPConnection, NetworkFailure>
    {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.connectFailed(message: "socket: " + String(cString: strerror(errno)))) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var storage = address.storage
        let started = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            return .failure(failure(connecting: code))
        }
        if started != 0 {
            while true {
                if deadline.isCancelled {
                    close(fd)
                    return .failure(.cancelled)
                }
                if deadline.remaining == .zero {
                    close(fd)
                    return .failure(.connectTimeout)
                }
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&entry, 1, deadline.slice) > 0 { break }
            }
            var code: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
            if code != 0 {
                close(fd)
                return .failure(failure(connecting: code))
            }
        }
        return .success(TCPConnection(fd: fd, address: address))
    }

    static func failure(connecting code: Int32) -> NetworkFailure {
        code == ECONNREFUSED ? .refused : .connectFailed(message: String(cString: strerror(code)))
    }

    /// Sends every byte, waiting for room until the deadline.
    public func send(_ bytes: [UInt8], deadline: NetworkDeadline) -> Result<Void, NetworkFailure> {
        var sent = 0
        while sent < bytes.count {
            if deadline.isCancelled { return .failure(.cancelled) }
            if deadline.remaining == .zero { return .failure(.replyTimeout) }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&entry, 1, deadline.slice) > 0 else { continue }
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0 && errno != EAGAIN && errno != EINTR {
                return .failure(.broken(message: String(cString: strerror(errno))))
            }
        }
        return .success(())
    }

    /// What `receive` read and why it stopped.
    public struct Received: Sendable {
        /// The bytes read, at most the cap.
        public var bytes: [UInt8]
        /// Why reading stopped early; nil when `isEnough` said the bytes suffice or the cap was reached.
        public var failure: NetworkFailure?
        /// Whether reading stopped because the cap was reached.
        public var reachedCap: Bool
    }

    /// Reads until `isEnough` holds for everything read so far, the peer closes, the cap is reached,
    /// or the deadline passes. Never holds more than `cap` bytes.
    public func receive(cap: Int, deadline: NetworkDeadline, until isEnough: ([UInt8]) -> Bool) -> Received {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if bytes.count >= cap { return Received(bytes: bytes, failure: nil, reachedCap: true) }
            if deadline.isCancelled { return Received(bytes: bytes, failure: .cancelled, reachedCap: false) }
            if deadline.remaining == .zero { return Received(bytes: bytes, failure: .replyTimeout, reachedCap: false) }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, deadline.slice) > 0 else { continue }
            let room = min(chunk.count, cap - bytes.count)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, room, 0) }
            if count > 0 {
                bytes += chunk[0..<count]
                if isEnough(bytes) { return Received(bytes: bytes, failure: nil, reachedCap: false) }
            } else if count == 0 {
                return Received(bytes: bytes, failure: .closed, reachedCap: false)
            } else if errno != EAGAIN && errno != EINTR {
                let message = String(cString: strerror(errno))
                return Received(bytes: bytes, failure: .broken(message: message), reachedCap: false)
            }
        }
    }
}
