import CProcessShim
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// PR_SET_PDEATHSIG fires when the thread that forked the child exits, not the process: the children must be
/// forked by `ProcessSpawner`'s thread, which never exits, and not by the short-lived thread that asks.
@Suite(.serialized) struct ProcessSpawnerTests {
    /// Spawns `/bin/sleep 300` from a new thread through `spawn`, waits until that thread has exited, and says
    /// whether the child is still running with no SIGKILL pending; the child is killed and reaped afterwards.
    func childSurvivesItsAskingThread(_ spawn: @escaping @Sendable (ProcessSpawner.Request) -> (pid_t, Int32))
        async throws -> Bool
    {
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let asked = Mutex<(thread: pid_t, child: pid_t, failure: Int32)?>(nil)
        let thread = Thread {
            let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("300"), nil]
            let environment: [UnsafeMutablePointer<CChar>?] = [nil]
            defer { arguments.forEach { free($0) } }
            let (child, failure) = arguments.withUnsafeBufferPointer { argv in
                environment.withUnsafeBufferPointer { envp in
                    spawn(
                        ProcessSpawner.Request(
                            file: argv[0]!, arguments: argv.baseAddress!, environment: envp.baseAddress!,
                            directory: nil, stdout: null, stderr: null))
                }
            }
            // "/proc/thread-self" links to "PID/task/TID".
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
            let thread = pid_t(link.split(separator: "/").last ?? "") ?? 0
            asked.withLock { $0 = (thread, child, failure) }
        }
        thread.start()
        let clock = ContinuousClock()
        let deadline = clock.now + hangGuard
        while asked.withLock({ $0 }) == nil || FileManager.default.fileExists(atPath: taskPath(asked)) {
            guard clock.now < deadline else { throw SpawnTestError("the asking thread did not exit") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let (_, child, failure) = asked.withLock { $0! }
        guard failure == 0 else { throw SpawnTestError("spawn failed: errno \(failure)") }
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        // The thread is gone, so its exit already sent any death signal: pending, or the child dead.
        return isAlive(child) && !killPending(child)
    }

    func taskPath(_ asked: borrowing Mutex<(thread: pid_t, child: pid_t, failure: Int32)?>) -> String {
        "/proc/self/task/\(asked.withLock { $0?.thread ?? 0 })"
    }

    /// Whether SIGKILL is pending for the process (its thread's or its group's pending set).
    func killPending(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let bit = UInt64(1) << (SIGKILL - 1)
        return status.split(separator: "\n").contains { line in
            guard line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") else { return false }
            return (UInt64(line.split(separator: "\t").last ?? "", radix: 16) ?? 0) & bit != 0
        }
    }

    @Test func aChildOutlivesTheShortLivedThreadThatAskedForIt() async throws {
        #expect(try await childSurvivesItsAskingThread(ProcessSpawner.spawn))
    }

    /// The control: forked by the asking thread itself, the child is killed when that thread exits, so the test
    /// above would catch a spawner that forks on the caller's thread.
    @Test func aChildForkedByTheExitingThreadItselfIsKilled() async throws {
        let direct: @Sendable (ProcessSpawner.Request) -> (pid_t, Int32) = { request in
            var pid: pid_t = 0
            let failure = cprocess_spawn(
                &pid, request.file, request.arguments, request.environment, request.directory, request.stdin,
                request.stdout, request.stderr)
            return (pid, failure)
        }
        #expect(try await !childSurvivesItsAskingThread(direct))
    }

    /// A descriptor the process holds without close-on-exec (libcurl 7.88 makes its sockets so, on any thread) does
    /// not reach a child: a connection libcurl closes must not stay open in a program diagnose started meanwhile.
    @Test func aDescriptorWithoutCloseOnExecDoesNotReachTheChild() async throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        #expect(fcntl(ends[0], F_GETFD) & FD_CLOEXEC == 0)
        let listing = await ProcessRunner.run(["/bin/sh", "-c", "ls /proc/$$/fd"], timeout: .seconds(30))
        let open = Set(listing.stdout.split(separator: "\n").compactMap { Int32($0) })
        #expect(listing.exitStatus == 0 && open.contains(0) && open.contains(1) && open.contains(2), "\(open)")
        #expect(!open.contains(ends[0]) && !open.contains(ends[1]), "\(open) holds \(ends)")
    }

    /// Launch failures come back as errno through the close-on-exec pipe (not found, not executable, bad folder).
    @Test func launchFailuresAreReportedAsErrno() async throws {
        let folder = try temporaryDirectory("spawn")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = folder + "/not-executable"
        try "#!/bin/sh\n".write(toFile: script, atomically: true, encoding: .utf8)
        let cases: [([String], String?, ProcessResult.Ending)] = [
            (["no-such-program-\(UUID().uuidString)"], nil, .launchFailed(ENOENT)),
            ([script], nil, .launchFailed(EACCES)),
            (["true"], folder + "/missing", .launchFailed(ENOENT)),
            (["sh", "-c", "pwd; exit 7"], folder, .exited(7)),
        ]
        for (argv, directory, ending) in cases {
            let result = await ProcessRunner.run(argv, workingDirectory: directory, timeout: hangGuard)
            #expect(result.ending == ending, "\(argv)")
            if ending == .exited(7) {
                #expect(result.stdout == folder + "\n" || result.stdout.hasSuffix(folder + "\n"))
            }
        }
    }
}

struct SpawnTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
