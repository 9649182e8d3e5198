import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real Celery worker (Debian's `celery`, the fixture app in Fixtures/celery) consuming one queue of a test
/// redis-server, in a process group of its own; the group is killed and the worker reaped when stopped or released.
final class CeleryWorker: @unchecked Sendable {
    /// The worker's pid, which is also its process group.
    let pid: pid_t
    /// Where its output goes.
    let log: String
    private let directory: String
    private let lock = NSLock()
    private var stopped = false

    /// The folder of the fixture app.
    static let appFolder = fixtures.appendingPathComponent("celery").path

    /// The environment the fixture's Python programs run in: Debian's python3 (which has celery), no bytecode
    /// written into the source tree.
    static func environment(brokerURL: String, home: String) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": appFolder, "DIAGNOSE_TEST_REDIS_URL": brokerURL,
        ]
    }

    /// Sends `count` tasks named `task` with these arguments to `queue`, as the backend would (Celery's own client).
    static func send(_ task: String, count: Int, arguments: [String] = [], queue: String = "celery", brokerURL: String)
        async throws
    {
        let script = """
            import sys
            from fixture_app import app
            for _ in range(int(sys.argv[1])):
                app.send_task(sys.argv[2], args=sys.argv[4:], queue=sys.argv[3])
            """
        let home = try Loopback.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let result = await ProcessRunner.run(
            ["/usr/bin/python3", "-c", script, String(count), task, queue] + arguments,
            environment: environment(brokerURL: brokerURL, home: home), timeout: .seconds(30))
        guard result.exitStatus == 0 else { throw TestSetupError("sending \(task) failed: \(result.stderr)") }
    }

    /// Starts a solo worker on `queue` and waits (at most 60 s) until it logs that it is ready.
    static func start(brokerURL: String, queue: String) async throws -> CeleryWorker {
        let directory = try Loopback.temporaryDirectory()
        let log = directory + "/worker.log"
        let argv = [
            "/usr/bin/celery", "--workdir", appFolder, "-A", "fixture_app", "worker", "--pool=solo", "--concurrency=1",
            "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
            "-n", "diagnose-test-\(getpid())-\(UUID().uuidString.prefix(8))@localhost",
        ]
        let environment = Self.environment(brokerURL: brokerURL, home: directory).map { "\($0.key)=\($0.value)" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let failure = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard failure == 0 else { throw TestSetupError("cannot start celery: \(String(cString: strerror(failure)))") }

        let worker = CeleryWorker(pid: pid, log: log, directory: directory)
        for _ in 0..<600 {
            if worker.output.contains(" ready.") { return worker }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                worker.lock.withLock { worker.stopped = true }
                throw TestSetupError("the celery worker ended before it was ready:\n\(worker.output.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("the celery worker was not ready within 60 s:\n\(worker.output.suffix(2000))")
    }

    private init(pid: pid_t, log: String, directory: String) {
        self.pid = pid
        self.log = log
        self.directory = directory
    }

    /// What the worker printed so far.
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits (at most 20 s) until the worker's output holds `text`.
    func waitForOutput(_ text: String) async throws {
        for _ in 0..<200 {
            if output.contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("the celery worker never printed '\(text)':\n\(output.suffix(2000))")
    }

    /// Kills the worker's process group and reaps the worker.
    func stop() {
        let wasStopped = lock.withLock {
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
