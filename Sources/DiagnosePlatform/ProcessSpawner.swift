import CProcessShim
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Starts every child process from one thread that never exits, so that the children's PR_SET_PDEATHSIG(SIGKILL)
/// fires when diagnose dies (even of SIGKILL) and never earlier: the kernel sends it when the *thread* that forked
/// the child exits, and the threads that run probes (`offload`, the cooperative pool) come and go.
package enum ProcessSpawner {
    /// What one spawn needs: C strings owned by the caller, which waits until the spawn is done.
    package struct Request: @unchecked Sendable {
        package var file: UnsafePointer<CChar>
        package var arguments: UnsafePointer<UnsafeMutablePointer<CChar>?>
        package var environment: UnsafePointer<UnsafeMutablePointer<CChar>?>
        package var directory: UnsafePointer<CChar>?
        /// Standard input; -1 reads /dev/null.
        package var stdin: Int32
        package var stdout: Int32
        package var stderr: Int32

        package init(
            file: UnsafePointer<CChar>, arguments: UnsafePointer<UnsafeMutablePointer<CChar>?>,
            environment: UnsafePointer<UnsafeMutablePointer<CChar>?>, directory: UnsafePointer<CChar>?,
            stdin: Int32 = -1, stdout: Int32, stderr: Int32
        ) {
            self.file = file
            self.arguments = arguments
            self.environment = environment
            self.directory = directory
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    private final class Job: @unchecked Sendable {
        let request: Request
        let done = DispatchSemaphore(value: 0)
        var result: (pid_t, Int32) = (0, 0)
        init(_ request: Request) { self.request = request }
    }

    private static let queue = Mutex<[Job]>([])
    private static let waiting = DispatchSemaphore(value: 0)
    /// Started on first use (a lazily initialised static runs once), and never ends.
    private static let started: Bool = {
        let thread = Thread {
            while true {
                waiting.wait()
                guard let job = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                var pid: pid_t = 0
                let request = job.request
                let failure = cprocess_spawn(
                    &pid, request.file, request.arguments, request.environment, request.directory, request.stdin,
                    request.stdout, request.stderr)
                job.result = (pid, failure)
                job.done.signal()
            }
        }
        thread.name = "diagnose-spawner"
        thread.stackSize = 1 << 20
        thread.start()
        return true
    }()

    /// Runs `cprocess_spawn` on the spawner thread and waits for it: the pid, or 0 and the errno.
    package static func spawn(_ request: Request) -> (pid_t, Int32) {
        _ = started
        let job = Job(request)
        queue.withLock { $0.append(job) }
        waiting.signal()
        job.done.wait()
        return job.result
    }
}
