import CProcessShim
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Connections made by a command, as the docker CLI makes them for an `ssh://` engine (its commandconn): each
/// connection libcurl opens starts `argv` with its standard input and output on that connection, so that HTTP goes
/// through the command. For ssh, the command is `ssh ... HOST docker system dial-stdio`.
///
/// libcurl connects to a unix socket of this process's own (`socketPath`, through `CurlRequest.dialer`, in a folder
/// only its user can enter, removed with the dialer), and a thread of the dialer accepts each connection, only from
/// this process (its peer credentials), and hands it to a new command. Two simpler ways fail with the libcurl of
/// Debian 12 (7.88): its socket callbacks cannot say "already connected" (it connects anyway), and it never reuses a
/// connection to an abstract socket (it takes the empty address for one still resolving).
///
/// Each command runs in a process group of its own, registered with `ChildProcesses` (killed on an interruption, and
/// by the group guard when diagnose dies). It is killed and reaped as soon as libcurl closes its connection, and the
/// connection is closed as soon as the command ends (libcurl then reads the end of the answer at once, not at its
/// timeout). What the last command to end wrote on standard error is kept: it is why a connection failed
/// (`ssh: connect to host ...: Connection refused`, `Permission denied (publickey)`).
package final class CommandDialer: @unchecked Sendable {
    /// The unix socket libcurl connects to (CURLOPT_UNIX_SOCKET_PATH); empty when it could not be made.
    package let socketPath: String
    private let monitor: Monitor?
    /// Why the dialer could not listen, when it could not.
    private let failure: String?

    /// A dialer starting `argv` (searched on PATH) with `environment` for each connection.
    package init(argv: [String], environment: [String: String]) {
        switch Monitor.listen() {
        case .success(let (listener, wake, path)):
            socketPath = path
            monitor = Monitor(listener: listener, wake: wake, argv: argv, environment: environment)
            failure = nil
            monitor?.start()
        case .failure(let reason):
            socketPath = ""
            monitor = nil
            failure = reason.description
        }
    }

    deinit {
        monitor?.stop()
        SocketFolders.remove(socketPath)
    }

    /// How many commands were started.
    package var commandsStarted: Int { monitor?.started.load(ordering: .relaxed) ?? 0 }

    /// How many commands are running (connections open).
    package var openConnections: Int { monitor?.state.withLock { $0.children.count } ?? 0 }

    /// What the last command to end at or after `since` (`DispatchTime.now().uptimeNanoseconds`) wrote on standard
    /// error (its end, whitespace-trimmed, ssh's "Warning: Permanently added" lines left out), or why none could
    /// start; empty when nothing was said since then.
    package func lastError(since: UInt64) -> String {
        if let failure { return failure }
        return monitor?.state.withLock { $0.lastWordsAt >= since ? $0.lastWords : "" } ?? ""
    }

    /// The thread's side: the listener, the commands running and what they said.
    final class Monitor: @unchecked Sendable {
        struct Child {
            var pid: pid_t
            /// The accepted connection; the command has its own copies as standard input and output.
            var connection: Int32
            /// The read end of the pipe its standard error goes to (non-blocking).
            var errors: Int32
            var said: [UInt8] = []
        }

        struct State {
            var children: [Child] = []
            var lastWords = ""
            /// When they were said (`DispatchTime.now().uptimeNanoseconds`).
            var lastWordsAt: UInt64 = 0
        }

        let listener: Int32
        let argv: [String]
        let environment: [String: String]
        let state = Mutex(State())
        let started = Atomic<Int>(0)
        /// Written to end the thread.
        private let wake: [Int32]
        private let ended = DispatchSemaphore(value: 0)

        /// POLLRDHUP (Linux): the peer closed its end; Glibc's Swift module hides it behind _GNU_SOURCE.
        static let peerClosed: Int16 = 0x2000

        /// The most bytes of a command's standard error kept (its end).
        static let errorLimit = 4096

        init(listener: Int32, wake: [Int32], argv: [String], environment: [String: String]) {
            self.listener = listener
            self.wake = wake
            self.argv = argv
            self.environment = environment
        }

        struct ListenFailure: Error, CustomStringConvertible {
            var description: String
        }

        /// A listening unix socket in a new folder only this user can enter, the pipe that wakes the thread, and the
        /// socket's path; or why there are none (nothing is left behind then).
        static func listen() -> Result<(Int32, [Int32], String), ListenFailure> {
            let base = NSTemporaryDirectory().count < 60 ? NSTemporaryDirectory() : "/tmp/"
            var template = Array((base + "diagnose-dial-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                return .failure(
                    ListenFailure(description: "no folder for the dialer's socket: \(String(cString: strerror(errno)))")
                )
            }
            let path = String(cString: made) + "/socket"
            SocketFolders.add(path)
            let descriptor = socket(
                AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { bytes in
                for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
            }
            let bound =
                descriptor >= 0
                && withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                } == 0
            var wake: [Int32] = [-1, -1]
            guard bound, Glibc.listen(descriptor, 64) == 0, cprocess_pipe_cloexec(&wake) == 0 else {
                let reason = String(cString: strerror(errno))
                if descriptor >= 0 { close(descriptor) }
                SocketFolders.remove(path)
                return .failure(ListenFailure(description: "the dialer's socket could not listen: \(reason)"))
            }
            return .success((descriptor, wake, path))
        }

        func start() {
            let thread = Thread { [self] in
                run()
                ended.signal()
            }
            thread.name = "diagnose-dialer"
            thread.stackSize = 1 << 20
            thread.start()
        }

        /// Ends the thread, which kills every command still running, and waits for it.
        func stop() {
            var byte: UInt8 = 1
            while write(wake[1], &byte, 1) < 0 && errno == EINTR {}
            ended.wait()
            close(listener)
            for descriptor in wake { close(descriptor) }
        }

        private func run() {
            while true {
                let children = state.withLock { $0.children }
                var watched = [
                    pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0),
                ]
                for child in children {
                    watched.append(pollfd(fd: child.connection, events: Self.peerClosed, revents: 0))
                    watched.append(pollfd(fd: child.errors, events: Int16(POLLIN), revents: 0))
                }
                if poll(&watched, nfds_t(watched.count), -1) < 0 {
                    // EINTR: look again; anything else (ENOMEM) is waited out rather than spun on.
                    if errno != EINTR { usleep(10_000) }
                    continue
                }
                if watched[1].revents != 0 {
                    finishAll()
                    return
                }
                for (index, child) in children.enumerated() {
                    let connection = watched[2 + 2 * index].revents
                    let errors = watched[3 + 2 * index].revents
                    // libcurl closed the connection, or the command closed standard error: it is done either way.
                    let closed = connection & (Self.peerClosed | Int16(POLLHUP | POLLERR)) != 0
                    let quiet = errors != 0 && !readErrors(of: child.pid)
                    if closed || quiet { finish(child.pid) }
                }
                if watched[0].revents != 0 { acceptAll() }
            }
        }

        /// Takes every pending connection and starts a command on each; a connection from another process is closed.
        private func acceptAll() {
            while true {
                let connection = cprocess_accept_own(listener)
                if connection == -2 { continue }
                guard connection >= 0 else {
                    // Out of descriptors (EMFILE, ENFILE): the connection stays queued and poll would say so at once
                    // again; wait a moment rather than spin.
                    if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { usleep(10_000) }
                    return
                }
                startCommand(on: connection)
            }
        }

        private func startCommand(on connection: Int32) {
            var errorPipe: [Int32] = [-1, -1]
            guard cprocess_pipe_cloexec(&errorPipe) == 0 else {
                remember("pipe: \(String(cString: strerror(errno)))")
                close(connection)
                return
            }
            let launched = ProcessRunner.spawn(
                argv, environment: environment, workingDirectory: nil, stdin: connection, stdout: connection,
                stderr: errorPipe[1])
            close(errorPipe[1])
            guard let (pid, failure) = launched, failure == 0 else {
                close(errorPipe[0])
                close(connection)
                let program = argv.first ?? ""
                remember(
                    launched == nil
                        ? "the run is being stopped"
                        : "\(program) could not be started: \(String(cString: strerror(launched?.1 ?? ENOENT)))")
                return
            }
            _ = fcntl(errorPipe[0], F_SETFL, fcntl(errorPipe[0], F_GETFL) | O_NONBLOCK)
            state.withLock { $0.children.append(Child(pid: pid, connection: connection, errors: errorPipe[0])) }
            started.add(1, ordering: .relaxed)
        }

        /// Reads what the command wrote on standard error so far; false at its end (the command has exited).
        private func readErrors(of pid: pid_t) -> Bool {
            guard let descriptor = state.withLock({ $0.children.first { $0.pid == pid }?.errors }) else { return false }
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = Glibc.read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    state.withLock { state in
                        guard let index = state.children.firstIndex(where: { $0.pid == pid }) else { return }
                        state.children[index].said += buffer[0..<count]
                        let extra = state.children[index].said.count - Self.errorLimit
                        if extra > 0 { state.children[index].said.removeFirst(extra) }
                    }
                    continue
                }
                return count < 0 && (errno == EAGAIN || errno == EINTR)
            }
        }

        /// Kills the command's group, reaps it, keeps what it said and closes its connection and pipe.
        private func finish(_ pid: pid_t) {
            _ = readErrors(of: pid)
            guard let index = state.withLock({ $0.children.firstIndex { $0.pid == pid } }) else { return }
            let child = state.withLock { $0.children.remove(at: index) }
            kill(-child.pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            ChildProcesses.unregister(child.pid)
            // Kept before the connection closes: libcurl's failure, which the close causes, reads it.
            let text = String(decoding: child.said, as: UTF8.self).split(whereSeparator: \.isNewline)
                .filter { !$0.hasPrefix("Warning: Permanently added") }.joined(separator: "\n").trimmingWhitespace()
            if !text.isEmpty { remember(text) }
            close(child.connection)
            close(child.errors)
        }

        private func finishAll() {
            for child in state.withLock({ $0.children }) { finish(child.pid) }
        }

        private func remember(_ text: String) {
            state.withLock { state in
                state.lastWords = text
                state.lastWordsAt = DispatchTime.now().uptimeNanoseconds
            }
        }
    }
}

/// The dialers' socket paths, removed with their folders when the dialer goes or, at the latest, when diagnose exits
/// (a deadline can end a run while a request still holds its client).
enum SocketFolders {
    private static let paths = Mutex<Set<String>>([])
    private static let cleanAtExit: Void = { atexit { SocketFolders.removeAll() } }()

    static func add(_ path: String) {
        _ = cleanAtExit
        paths.withLock { _ = $0.insert(path) }
    }

    /// Removes the socket and its folder; nothing for "".
    static func remove(_ path: String) {
        guard !path.isEmpty, paths.withLock({ $0.remove(path) }) != nil else { return }
        unlink(path)
        rmdir((path as NSString).deletingLastPathComponent)
    }

    static func removeAll() {
        for path in paths.withLock({ $0 }) { remove(path) }
    }
}
