import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// A real compose project for the compose tests: Docker started if needed, a busybox image built once, one
/// container per situation a probe must recognise, and everything removed when the test process exits.
actor DockerTestStack {
    /// The project's name: `dgtest-` and this test process's PID, so that two checkouts running the suite at once on
    /// one engine never share (or remove) each other's containers.
    static let projectName = "dgtest-stack-\(getpid())"
    static let image = "dgtest-busybox:latest"

    static let shared = DockerTestStack()

    private var ready: Task<String, any Error>?

    /// The folder holding the project's compose file, once every container is in its expected state.
    func directory() async throws -> String {
        if let ready { return try await ready.value }
        let task = Task { try await Self.bringUp() }
        ready = task
        return try await task.value
    }

    /// The environment the tests run docker with.
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// An adapter for the stack's folder, fresh so each test reads state itself.
    func adapter() async throws -> ComposeAdapter {
        ComposeAdapter(environment: Self.environment, workingDirectory: try await directory())
    }

    /// A probe context whose compose adapter looks at the stack.
    func context(timeout: Duration = .seconds(20)) async throws -> ProbeContext {
        let directory = try await directory()
        return ProbeContext(
            timeout: timeout, environment: Self.environment, workingDirectory: directory,
            compose: ComposeAdapter(environment: Self.environment, workingDirectory: directory))
    }

    /// The host ports (on 127.0.0.1) the stack publishes, free when the stack came up.
    static let publishedPorts: (toServed: Int, toOther: Int) = {
        let first = (try? Loopback.freePort()) ?? 0
        var second = first
        while second == first { second = (try? Loopback.freePort()) ?? 0 }
        return (first, second)
    }()

    static let loop = #"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#
    /// A worker whose command line reads `celery -A app worker ...`, with a shell loop standing in for Celery.
    static let celery = #"["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done", "celery"]"#

    static let composeFile = """
        version: "2.4"
        services:
          healthy:
            image: \(image)
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
            healthcheck: {test: ["CMD", "true"], interval: 1s, timeout: 1s, retries: 1}
            environment:
              BACKEND_URL: http://backend:8000
              REDIS_URL: redis://:s3cr3t-pass@redis:6379/0
              API_KEY: sk-test-0123456789
          unhealthy:
            image: \(image)
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
            healthcheck: {test: ["CMD-SHELL", "echo 'db check failed: connection refused'; exit 1"], interval: 1s, timeout: 1s, retries: 1}
          starting:
            image: \(image)
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
            healthcheck: {test: ["CMD", "true"], interval: 1h, timeout: 1s, retries: 1}
          plain:
            image: \(image)
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
          exited:
            image: \(image)
            command: ["sh", "-c", "echo 'giving up'; exit 3"]
          restarting:
            image: \(image)
            command: ["sh", "-c", "echo 'crash'; exit 1"]
            restart: always
          crashing:
            image: \(image)
            command: ["sh", "-c", "echo 'celery starting'; sleep 0.3; cat /traceback.txt >&2; echo 'after the traceback' >&2; exit 2"]
            volumes: ["./traceback.txt:/traceback.txt:ro"]
          oom:
            image: \(image)
            command: ["tail", "/dev/zero"]
            mem_limit: 8m
            memswap_limit: 8m
          recovered:
            image: \(image)
            command: ["sh", "-c", "if [ -f /ran ]; then echo 'started cleanly'; else touch /ran; echo \\"ImportError: cannot import name 'settings'\\"; fi; trap 'exit 0' TERM; while true; do sleep 1; done"]
          web:
            image: \(image)
            command: ["sh", "-c", "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8000 -h /www"]
          log-auth:
            image: \(image)
            command: ["sh", "-c", "echo 'INFO:     Started server process [1]'; cat /logs/auth.txt >&2; trap 'exit 0' TERM; while true; do sleep 1; done"]
            volumes: ["./log-errors:/logs:ro"]
          log-broker:
            image: \(image)
            command: ["sh", "-c", "cat /logs/broker.txt; trap 'exit 0' TERM; while true; do sleep 1; done"]
            volumes: ["./log-errors:/logs:ro"]
          log-clean:
            image: \(image)
            command: ["sh", "-c", "echo 'INFO:     Started server process [1]'; echo 'INFO:     Application startup complete.'; echo 'INFO:     172.18.0.5:40122 - \\"GET /health HTTP/1.1\\" 200 OK'; trap 'exit 0' TERM; while true; do sleep 1; done"]
          log-unmatched:
            image: \(image)
            command: ["sh", "-c", "echo 'worker ready'; echo 'ERROR flux capacitor overheated at 88 mph' >&2; trap 'exit 0' TERM; while true; do sleep 1; done"]
          log-restarted:
            image: \(image)
            command: ["sh", "-c", "if [ -f /ran ]; then echo 'started cleanly'; else touch /ran; cat /logs/auth.txt; fi; trap 'exit 0' TERM; while true; do sleep 1; done"]
            volumes: ["./log-errors:/logs:ro"]
          never:
            image: \(image)
            command: ["true"]
          created:
            image: \(image)
            command: \(loop)
          paused:
            image: \(image)
            command: \(loop)
            healthcheck: {test: ["CMD", "true"], interval: 1s, timeout: 1s, retries: 1}
          killed:
            image: \(image)
            command: ["sh", "-c", "while true; do sleep 1; done"]
          stopped:
            image: \(image)
            command: \(loop)
            environment:
              REDIS_URL: redis://:s3cr3t-pass@redis:6379/0
          halted:
            image: \(image)
            command: \(loop)
            restart: unless-stopped
          dead:
            image: \(image)
            command: ["sh", "-c", "echo pinned > /pinned; trap 'exit 0' TERM; while true; do sleep 1; done"]
          listen-local:
            image: \(image)
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 127.0.0.1:8000 -h /www"]
            healthcheck: {test: ["CMD-SHELL", "wget -q -O- http://localhost:8000/ || exit 1"], interval: 1h}
          listen-other:
            image: \(image)
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8001 -h /www"]
          published:
            image: \(image)
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8000 -h /www"]
            ports: ["127.0.0.1:\(publishedPorts.toServed):8000"]
          published-other:
            image: \(image)
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8000 -h /www"]
            ports: ["127.0.0.1:\(publishedPorts.toOther):8001"]
          drift-db:
            image: \(image)
            command: \(loop)
            environment:
              REDIS_URL: redis://:s3cr3t-pass@redis:6379/1
          drift-pass:
            image: \(image)
            command: \(loop)
            environment:
              REDIS_URL: redis://:0ther-s3cret@redis:6379/0
          celery-q:
            image: \(image)
            entrypoint: \(celery)
            command: ["-A", "app", "worker", "-Q", "lab-priority"]
          celery-default:
            image: \(image)
            entrypoint: \(celery)
            command: ["-A", "app", "worker", "--loglevel=info"]
          celery-many:
            image: \(image)
            entrypoint: \(celery)
            command: ["-A", "app", "worker", "-Qbulk,celery"]
        """

    /// A redis-py 4.3 traceback as the backend logs it when Redis wants a password, then an exporter's noise.
    static let authTraceback = """
        ERROR:app.main:ready: redis ping failed
        Traceback (most recent call last):
          File "/app/app/main.py", line 41, in ready
            client.ping()
          File "/usr/lib/python3/dist-packages/redis/client.py", line 1378, in execute_command
            return conn.retry.call_with_retry(
          File "/usr/lib/python3/dist-packages/redis/connection.py", line 827, in read_response
            raise response
        redis.exceptions.AuthenticationError: Authentication required.
        ERROR:opentelemetry.exporter.jaeger.thrift:Failed to export spans to jaeger:6831: Temporary failure in name resolution

        """

    /// kombu's redis transport as a Celery 5.2 worker logs it, three attempts, while Redis is stopped.
    static let brokerRefused = (1...3).map { attempt in
        """
        [2026-11-28 12:00:0\(attempt),000: ERROR/MainProcess] consumer: Cannot connect to redis://redis:6379/0: Error 111 connecting to redis:6379. Connection refused..
        Trying again in 2.00 seconds... (\(attempt)/100)

        """
    }.joined()

    /// The services brought up, `never` and `created` (created, never started) aside.
    static let services = [
        "healthy", "unhealthy", "starting", "plain", "exited", "restarting", "crashing", "oom", "web", "recovered",
        "paused", "killed", "stopped", "halted", "dead", "listen-local", "listen-other", "published",
        "published-other", "drift-db", "drift-pass", "celery-q", "celery-default", "celery-many", "log-auth",
        "log-broker", "log-clean", "log-unmatched", "log-restarted",
    ]

    static let traceback = """
        Unable to load celery application.
        Traceback (most recent call last):
          File "/usr/lib/python3/dist-packages/celery/app/utils.py", line 383, in find_app
            sym = symbol_by_name(app, imp=imp)
                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
          File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
            return _bootstrap._gcd_import(name[level:], package, level)
        ModuleNotFoundError: No module named 'app.tasks'

        """

    private static func bringUp() async throws -> String {
        try await startEngineIfNeeded()
        try await buildImageIfNeeded()
        // The folder's name is the project's name, so probes find the project the way compose would.
        let directory = try temporaryDirectory("stack") + "/" + projectName
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try composeFile.write(toFile: directory + "/docker-compose.yml", atomically: true, encoding: .utf8)
        try traceback.write(toFile: directory + "/traceback.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/log-errors", withIntermediateDirectories: true)
        try authTraceback.write(toFile: directory + "/log-errors/auth.txt", atomically: true, encoding: .utf8)
        try brokerRefused.write(toFile: directory + "/log-errors/broker.txt", atomically: true, encoding: .utf8)
        atexit { DockerTestStack.tearDown() }
        try await compose(["down", "-v", "-t", "0"], in: directory)
        try await compose(["up", "-d"] + services, in: directory)
        try await compose(["up", "--no-start", "created"], in: directory)
        try await waitForStates(in: directory, Self.runningStates)
        try await changeStates()
        try await waitForStates(in: directory, Self.changedStates)
        return directory
    }

    /// What the containers changed at run time must be running as, before they are changed.
    static let runningStates: [String: @Sendable (ContainerInfo) -> Bool] = [
        "paused": { $0.state.health?.status == "healthy" },
        "killed": { $0.isRunning }, "stopped": { $0.isRunning }, "halted": { $0.isRunning },
        "dead": { $0.isRunning },
    ]

    /// What they are after: paused, killed (SIGKILL, 137), stopped (exit 0; under `unless-stopped`), dead.
    static let changedStates: [String: @Sendable (ContainerInfo) -> Bool] = [
        "paused": { $0.state.status == "paused" },
        "killed": { $0.state.status == "exited" && $0.state.exitCode == 137 },
        "stopped": { $0.state.status == "exited" && $0.state.exitCode == 0 },
        "halted": { $0.state.status == "exited" },
        "dead": { $0.state.status == "dead" },
    ]

    /// Pauses, kills and stops the containers whose tests need a state only a change at run time gives, and makes
    /// `dead` honestly: its removal fails on an immutable file in its writable layer, and the engine marks it dead,
    /// as it does when a removal fails on a busy mount. The teardown makes the file mutable again.
    private static func changeStates() async throws {
        let adapter = ComposeAdapter(environment: environment, workingDirectory: "/")
        let state = try await adapter.state(of: projectName).get()
        func id(_ service: String) throws -> String {
            guard let container = state.containers(of: service).first else { throw StackError("no \(service)") }
            return container.id
        }
        let steps = [
            ["docker", "pause", try id("paused")], ["docker", "kill", try id("killed")],
            ["docker", "stop", "-t", "5", try id("stopped"), try id("halted")],
        ]
        for step in steps {
            let result = await run(step)
            guard result.exitStatus == 0 else { throw StackError("\(step.joined(separator: " ")): \(result.stderr)") }
        }
        let dead = try id("dead")
        let upper = await run(["docker", "inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", dead])
        let pinned = upper.stdout.trimmingWhitespace() + "/pinned"
        let pin = await run(["chattr", "+i", pinned])
        guard pin.exitStatus == 0 else { throw StackError("chattr +i \(pinned): \(pin.stderr)") }
        _ = await run(["docker", "rm", "-f", dead])
    }

    /// How the containers started by `up` must be before any test runs.
    static let initialStates: [String: @Sendable (ContainerInfo) -> Bool] = [
        "healthy": { $0.state.health?.status == "healthy" },
        "unhealthy": { $0.state.health?.status == "unhealthy" },
        "exited": { $0.state.status == "exited" },
        "restarting": { $0.state.status == "restarting" && $0.restartCount >= 1 },
        "crashing": { $0.state.status == "exited" },
        // Docker 20.10 on cgroup v2 sometimes misses the OOM event of a container that dies at once
        // (exit 137, OOMKilled false); the wait below starts such a container again until the flag is set.
        "oom": { $0.state.status == "exited" && $0.state.oomKilled },
        "web": { $0.isRunning }, "listen-local": { $0.isRunning }, "listen-other": { $0.isRunning },
        "published": { $0.isRunning }, "published-other": { $0.isRunning },
        "created": { $0.state.status == "created" },
    ]

    /// Waits until each container shows the state its test expects: `initialStates`, and `more` over them.
    private static func waitForStates(
        in directory: String, _ more: [String: @Sendable (ContainerInfo) -> Bool]
    ) async throws {
        let expected = more.merging(initialStates) { mine, _ in mine }
        var waiting: [String] = []
        for _ in 0..<120 {
            let adapter = ComposeAdapter(environment: environment, workingDirectory: directory)
            let state = try await adapter.state(of: projectName).get()
            waiting = expected.filter { service, isReady in
                !(state.containers(of: service).first.map(isReady) ?? false)
            }.keys.sorted()
            if waiting.isEmpty { return }
            if let oom = state.containers(of: "oom").first, oom.state.status == "exited", !oom.state.oomKilled {
                _ = await run(["docker", "start", oom.id])
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw StackError(
            "the test stack's containers did not reach their expected states within 30s: \(waiting.joined(separator: ", "))"
        )
    }

    static func startEngineIfNeeded() async throws {
        if await run(["docker", "info"]).exitStatus == 0 { return }
        _ = await run([
            "/bin/sh", "-c",
            "nohup setsid dockerd --iptables=false --bridge=none >/var/log/dockerd.log 2>&1 </dev/null &",
        ])
        for _ in 0..<60 {
            if await run(["docker", "info"]).exitStatus == 0 { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw StackError("dockerd did not answer within 30s; see /var/log/dockerd.log")
    }

    static func buildImageIfNeeded() async throws {
        if await run(["docker", "image", "inspect", image]).exitStatus == 0 { return }
        let directory = try temporaryDirectory("image")
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: directory + "/busybox")
        try """
        FROM scratch
        COPY busybox /bin/busybox
        RUN ["/bin/busybox", "--install", "-s", "/bin"]
        """.write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = await run(["docker", "build", "--network", "host", "-t", image, directory], timeout: .seconds(120))
        guard built.exitStatus == 0 else { throw StackError("docker build failed: \(built.stderr)") }
    }

    @discardableResult
    static func compose(_ arguments: [String], in directory: String) async throws -> ProcessResult {
        let result = await run(
            ["docker-compose", "-p", projectName, "-f", directory + "/docker-compose.yml"] + arguments,
            timeout: .seconds(120), workingDirectory: directory)
        guard result.exitStatus == 0 else {
            throw StackError("docker-compose \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result
    }

    /// Removes the project's containers and network, making `dead`'s pinned file mutable first; runs at process exit.
    static func tearDown() {
        _ = ProcessRunner.runBlocking(
            [
                "/bin/sh", "-c",
                "ids=$(docker ps -aq --filter label=com.docker.compose.project=\(projectName)); "
                    + "for id in $ids; do chattr -i \"$(docker inspect -f '{{.GraphDriver.Data.UpperDir}}' $id)/pinned\" "
                    + "2>/dev/null; done; "
                    + "[ -z \"$ids\" ] || docker rm -f -v $ids; docker network rm \(projectName)_default",
            ], environment: nil, workingDirectory: nil, timeout: .seconds(60), captureLimit: 4096, cancellation: [])
    }

    static func run(
        _ argv: [String], timeout: Duration = .seconds(30), workingDirectory: String? = nil
    ) async -> ProcessResult {
        await ProcessRunner.run(argv, workingDirectory: workingDirectory, timeout: timeout)
    }
}

struct StackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
