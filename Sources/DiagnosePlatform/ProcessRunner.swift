import CProcessShim
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A flag that tells blocking work to stop as soon as it can.
public final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)

    /// A flag that is not set.
    public init() {}

    /// Asks the work to stop.
    public func cancel() { state.store(true, ordering: .relaxed) }

    /// Whether the work was asked to stop.
    public var isCancelled: Bool { state.load(ordering: .relaxed) }
}

/// How a child process ended and what it wrote, bounded.
public struct ProcessResult: Sendable, Hashable {
    /// How the process ended.
    public enum Ending: Sendable, Hashable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)
        /// It ran past its timeout; its process group was killed.
        case timedOut
        /// The run was cancelled; its process group was killed.
        case cancelled
        /// It could not be started; the errno says why (ENOENT: not found, EACCES: not executable).
        case launchFailed(Int32)
    }

    /// How the process ended.
    public var ending: Ending
    /// Standard output, up to the capture limit.
    public var stdout: String
    /// Standard error, up to the capture limit.
    public var stderr: String
    /// Bytes written to standard output, including those beyond the limit.
    public var stdoutBytes: Int
    /// Bytes written to standard error, including those beyond the limit.
    public var stderrBytes: Int
    /// The capture limit used.
    public var captureLimit: Int

    /// A result with these parts, for an answer that did not come from a local process (the engine API's exec
    /// and logs), so callers read both the same way.
    package init(
        ending: Ending, stdout: String, stderr: String, stdoutBytes: Int, stderrBytes: Int, captureLimit: Int
    ) {
        self.ending = ending
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.captureLimit = captureLimit
    }

    /// The exit status when the process exited normally.
    public var exitStatus: Int32? { if case .exited(let status) = ending { status } else { nil } }
}

/// Processes started by diagnose that may still be running, so an interruption can kill them all.
public enum ChildProcesses {
    private struct State {
        var groups: Set<pid_t> = []
        var closed = false
        /// The socket to the group guard (`cprocess_start_guard`), once started; -1 if it could not be.
        var guardChannel: Int32?
    }

    private static let state = Mutex(State())

    /// Spawns under the registry's lock and registers the new group, so that no process can start unseen by
    /// `killAll`; once closed, nothing is spawned (nil).
    ///
    /// The first spawn also starts the group guard, a small process that kills every group still registered when
    /// diagnose ends in any way, SIGKILL included: the death signal each child gets reaches the child only, and
    /// this reaches what the child started in its group (a shell's children).
    static func spawn(_ start: () -> (pid_t, Int32)) -> (pid_t, Int32)? {
        state.withLock { state in
            guard !state.closed else { return nil }
            if state.guardChannel == nil {
                var channel: Int32 = -1
                var guardPid: pid_t = 0
                state.guardChannel = cprocess_start_guard(&channel, &guardPid) == 0 ? channel : -1
            }
            let (pid, failure) = start()
            if failure == 0 {
                state.groups.insert(pid)
                if let channel = state.guardChannel, channel >= 0 { _ = cprocess_guard_send(channel, 1, pid) }
            }
            return (pid, failure)
        }
    }

    static func unregister(_ group: pid_t) {
        state.withLock { state in
            guard state.groups.remove(group) != nil else { return }
            if let channel = state.guardChannel, channel >= 0 { _ = cprocess_guard_send(channel, 0, group) }
        }
    }

    /// Kills every process group diagnose started that is still registered, and refuses to start any more: the
    /// process is about to exit, and a child started now would outlive it.
    public static func killAll() {
        state.withLock { state in
            state.closed = true
            for group in state.groups { kill(-group, SIGKILL) }
        }
    }

    /// Whether `killAll` was called.
    public static var isClosed: Bool { state.withLock { $0.closed } }

    /// How many process groups are registered.
    public static var count: Int { state.withLock { $0.groups.count } }
}

/// Runs programs without a shell, in their own process group, with a timeout, bounded capture and no leftovers.
/// Each child gets PR_SET_PDEATHSIG(SIGKILL) from `ProcessSpawner`: it dies with diagnose even when diagnose is
/// killed outright. Its own children (the rest of its process group) are killed by `killAll`, at its end, and by the
/// group guard (`ChildProcesses.spawn`) when diagnose dies of SIGKILL.
public enum ProcessRunner {
    /// The default number of bytes kept of each stream; the rest is read, counted and dropped.
    public static let defaultCaptureLimit = 64 * 1024

    /// Runs `argv` (searched on PATH), killing its whole process group at the timeout, on cancellation,
    /// and as soon as the program itself exits, so no grandchild outlives the run.
    /// With `mergingStandardError`, standard error goes to the standard output pipe, keeping the two in order.
    public static func run(
        _ argv: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
        timeout: Duration, captureLimit: Int = defaultCaptureLimit, cancellation: CancellationFlag? = nil,
        mergingStandardError: Bool = false, keepingEnd: Bool = false
    ) async -> ProcessResult {
        let flag = CancellationFlag()
        return await withTaskCancellationHandler {
            await offload {
                runBlocking(
                    argv, environment: environment, workingDirectory: workingDirectory, timeout: timeout,
                    captureLimit: captureLimit, cancellation: [flag, cancellation].compactMap { $0 },
                    mergingStandardError: mergingStandardError, keepingEnd: keepingEnd)
            }
        } onCancel: {
            flag.cancel()
        }
    }

    package static func runBlocking(
        _ argv: [String], environment: [String: String]?, workingDirectory: String?, timeout: Duration,
        captureLimit: Int, cancellation: [CancellationFlag], mergingStandardError: Bool = false,
        keepingEnd: Bool = false
    ) -> ProcessResult {
        var result = ProcessResult(
            ending: .launchFailed(ENOENT), stdout: "", stderr: "", stdoutBytes: 0, stderrBytes: 0,
            captureLimit: captureLimit)
        guard argv.first?.isEmpty == false else { return result }
        if argv.contains(where: { $0.utf8.contains(0) }) {
            result.ending = .launchFailed(EINVAL)
            return result
        }

        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard cprocess_pipe_cloexec(&outPipe) == 0 else { result.ending = .launchFailed(errno); return result }
        guard cprocess_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            result.ending = .launchFailed(errno)
            return result
        }

        let launched = spawn(
            argv, environment: environment, workingDirectory: workingDirectory, stdout: outPipe[1],
            stderr: mergingStandardError ? outPipe[1] : errPipe[1])
        close(outPipe[1])
        close(errPipe[1])
        guard let (pid, spawned) = launched, spawned == 0 else {
            close(outPipe[0]); close(errPipe[0])
            result.ending = launched == nil ? .cancelled : .launchFailed(launched?.1 ?? ENOENT)
            return result
        }
        defer { ChildProcesses.unregister(pid) }

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var streams = [Stream(fd: outPipe[0], keepingEnd: keepingEnd), Stream(fd: errPipe[0], keepingEnd: keepingEnd)]
        for stream in streams { _ = fcntl(stream.fd, F_SETFL, fcntl(stream.fd, F_GETFL) | O_NONBLOCK) }
        var ending: ProcessResult.Ending?
        var drainUntil: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        func reap(blocking: Bool) -> ProcessResult.Ending? {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            guard reaped == pid else { return nil }
            let code = status & 0x7f
            return code == 0 ? .exited((status >> 8) & 0xff) : .signalled(code)
        }

        while true {
            if ending == nil {
                if cancellation.contains(where: \.isCancelled) {
                    kill(-pid, SIGKILL)
                    _ = reap(blocking: true)
                    ending = .cancelled
                    drainUntil = clock.now.advanced(by: .milliseconds(50))
                } else if clock.now >= deadline {
                    kill(-pid, SIGKILL)
                    _ = reap(blocking: true)
                    ending = .timedOut
                    drainUntil = clock.now.advanced(by: .milliseconds(50))
                } else if let exited = reap(blocking: false) {
                    // The program is done; whatever it left behind in its group must not outlive it.
                    kill(-pid, SIGKILL)
                    ending = exited
                    drainUntil = clock.now.advanced(by: .milliseconds(200))
                }
            }
            let open = streams.indices.filter { streams[$0].fd >= 0 }
            if open.isEmpty && ending != nil { break }
            if let drainUntil, clock.now >= drainUntil { break }

            let limit = drainUntil ?? deadline
            let remaining = clock.now.duration(to: limit)
            let slice = max(1, min(50, remaining.milliseconds + 1))
            var pollSet = open.map { pollfd(fd: streams[$0].fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollSet, nfds_t(pollSet.count), Int32(slice))
            guard ready > 0 else { continue }
            for (slot, index) in open.enumerated() where pollSet[slot].revents != 0 {
                let count = read(streams[index].fd, &buffer, buffer.count)
                if count > 0 {
                    streams[index].append(buffer[0..<count], limit: captureLimit)
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(streams[index].fd)
                    streams[index].fd = -1
                }
            }
        }
        for stream in streams where stream.fd >= 0 { close(stream.fd) }
        if ending == nil {
            kill(-pid, SIGKILL)
            ending = reap(blocking: true) ?? .signalled(SIGKILL)
        }
        // Killed by an interruption (ChildProcesses.killAll), not by its own doing: a stop, not a finding.
        if case .signalled(SIGKILL) = ending, ChildProcesses.isClosed { ending = .cancelled }
        for index in streams.indices { streams[index].trim(to: captureLimit) }
        result.ending = ending!
        result.stdout = String(decoding: streams[0].captured, as: UTF8.self)
        result.stderr = String(decoding: streams[1].captured, as: UTF8.self)
        result.stdoutBytes = streams[0].total
        result.stderrBytes = streams[1].total
        return result
    }

    /// Starts `argv` (searched on PATH) in a process group of its own, registered with `ChildProcesses`: the pid, or
    /// 0 and the errno; nil once `ChildProcesses.killAll` was called. Standard input is `stdin` (/dev/null for -1);
    /// the caller closes its copies of the descriptors it passed, waits for the child and unregisters it.
    package static func spawn(
        _ argv: [String], environment: [String: String]?, workingDirectory: String?, stdin: Int32 = -1,
        stdout: Int32, stderr: Int32
    ) -> (pid_t, Int32)? {
        guard let program = argv.first else { return (0, ENOENT) }
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let cEnvironment = environmentLines.map { strdup($0) } + [nil]
        defer { cEnvironment.forEach { free($0) } }

        // ETXTBSY: a program written a moment ago is still open for writing in a child that another thread forked
        // meanwhile (until that child's exec closes it); the file is fine, so try again briefly.
        var launched: (pid_t, Int32)?
        for attempt in 0..<20 {
            if attempt > 0 { usleep(10_000) }
            launched = ChildProcesses.spawn {
                program.withCString { file in
                    cArguments.withUnsafeBufferPointer { arguments in
                        cEnvironment.withUnsafeBufferPointer { environment in
                            withOptionalCString(workingDirectory) { directory in
                                ProcessSpawner.spawn(
                                    ProcessSpawner.Request(
                                        file: file, arguments: arguments.baseAddress!,
                                        environment: environment.baseAddress!, directory: directory, stdin: stdin,
                                        stdout: stdout, stderr: stderr))
                            }
                        }
                    }
                }
            }
            if launched?.1 != ETXTBSY { break }
        }
        return launched
    }

    struct Stream {
        var fd: Int32
        /// Whether the last bytes are kept (a log's tail) rather than the first.
        var keepingEnd: Bool
        var captured: [UInt8] = []
        var total = 0

        init(fd: Int32, keepingEnd: Bool = false) {
            self.fd = fd
            self.keepingEnd = keepingEnd
        }

        mutating func append(_ bytes: ArraySlice<UInt8>, limit: Int) {
            total += bytes.count
            if keepingEnd {
                // Dropping the front only when twice the limit is held keeps appends amortized O(1).
                captured += bytes
                if captured.count > 2 * limit { captured.removeFirst(captured.count - limit) }
            } else {
                let room = limit - captured.count
                if room > 0 { captured += bytes.prefix(room) }
            }
        }

        mutating func trim(to limit: Int) {
            if captured.count > limit { captured.removeFirst(captured.count - limit) }
        }
    }
}

private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// Runs blocking work on its own thread, so it never occupies the cooperative pool's few threads.
public func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
