import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite(.serialized) struct LogErrorsProbeTests {
    func probe(_ arguments: [String: ArgumentValue]) throws -> LogErrorsProbe {
        try LogErrorsProbe(ProbeArguments(arguments))
    }

    func localContext(_ directory: String) -> ProbeContext {
        ProbeContext(
            timeout: .seconds(10), environment: ProcessInfo.processInfo.environment, workingDirectory: directory)
    }

    /// The observation for a log file holding this text.
    func scanned(_ text: String, _ arguments: [String: ArgumentValue] = [:]) async throws -> Observation {
        let directory = try temporaryDirectory("log-errors")
        try text.write(toFile: directory + "/app.log", atomically: true, encoding: .utf8)
        return try await probe(arguments.merging(["file": .scalar("app.log")]) { $1 }).run(localContext(directory))
    }

    static let jaegerNoise: ArgumentValue = .scalar("jaeger|opentelemetry|Failed to export")

    // MARK: Real containers

    @Test func redisAuthenticationTracebackIsClassifiedWithItsFrames() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("log-auth"), "ignore": Self.jaegerNoise]).run(context)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "redis-auth")
        #expect(
            observation.summary == "log-auth's most recent error: Redis refuses the password (Authentication required)")
        let evidence = observation.evidence
        #expect(
            evidence.first?.hasPrefix(
                "$ docker logs --tail 1000 --timestamps \(DockerTestStack.projectName)_log-auth_1 --since ") == true)
        let recent = try #require(evidence.first { $0.hasPrefix("most recent error (at 20") })
        #expect(
            recent.hasSuffix(
                ", 1 of 1 error lines since start): redis.exceptions.AuthenticationError: Authentication required."))
        #expect(evidence.contains("logged after: ERROR:app.main:ready: redis ping failed"))
        #expect(evidence.contains(#"first frame: File "/app/app/main.py", line 41, in ready"#))
        #expect(
            evidence.contains(
                #"last frame: File "/usr/lib/python3/dist-packages/redis/connection.py", line 827, in read_response"#))
        #expect(evidence.contains("ignored: 1 error line matching /jaeger|opentelemetry|Failed to export/"))
        #expect(evidence.contains { $0.hasPrefix("signature: redis-auth (Authentication required|NOAUTH|WRONGPASS|") })
        #expect(evidence.last?.hasPrefix("since: 20") == true)
    }

    @Test func withoutIgnoreTheExportersNoiseIsTheMostRecentError() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("log-auth")]).run(context)
        #expect(observation.cause == "dns-failure")
        #expect(observation.evidence.contains { $0.contains("1 of 2 error lines since start): ERROR:opentelemetry") })
    }

    @Test func kombuRefusedConnectionIsRedisRefusedAndCounted() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("log-broker")]).run(context)
        #expect(observation.cause == "redis-refused")
        #expect(
            observation.summary
                == "log-broker's most recent error: Redis refuses connections (nothing listens on its port) (Error 111 connecting to)"
        )
        let line =
            "[2026-11-28 12:00:03,000: ERROR/MainProcess] consumer: Cannot connect to redis://redis:6379/0: Error 111 connecting to redis:6379. Connection refused.."
        #expect(observation.evidence.contains { $0.hasSuffix("3 of 3 error lines since start): \(line)") })
        #expect(!observation.evidence.contains { $0.contains("frame") })
    }

    @Test func aRunbookSignatureWinsOverTheBuiltInTable() async throws {
        let context = try await DockerTestStack.shared.context()
        let signature: ArgumentValue = .map([
            "pattern": .scalar("Error 111 connecting to redis"), "cause": .scalar("broker-stopped"),
            "title": .scalar("the redis container is stopped"),
        ])
        let observation = try await probe(["service": .scalar("log-broker"), "signatures": .list([signature])])
            .run(context)
        #expect(observation.cause == "broker-stopped")
        #expect(
            observation.summary
                == "log-broker's most recent error: the redis container is stopped (Error 111 connecting to redis)")
        #expect(observation.evidence.contains("signature: broker-stopped (Error 111 connecting to redis)"))
    }

    @Test func aCleanServicePasses() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("log-clean")]).run(context)
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.hasPrefix("no error in the 3 lines since log-clean started "))
        #expect(observation.summary.hasSuffix(" ago"))
        #expect(observation.evidence.contains("0 error lines since start"))
    }

    @Test func anUnmatchedErrorIsUnclassifiedAndStillShown() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("log-unmatched")]).run(context)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "unclassified")
        #expect(
            observation.summary
                == "log-unmatched's most recent error matches no known signature: ERROR flux capacitor overheated at 88 mph"
        )
        #expect(observation.evidence.contains("no signature matched"))
    }

    @Test func anErrorFromBeforeTheCurrentStartDoesNotCount() async throws {
        let context = try await DockerTestStack.shared.context()
        let search: [String: ArgumentValue] = ["service": .scalar("log-restarted"), "ignore": Self.jaegerNoise]
        #expect(try await probe(search).run(context).cause == "redis-auth")

        let adapter = try await DockerTestStack.shared.adapter()
        let container = try await adapter.container(of: "log-restarted", in: DockerTestStack.projectName).get()
        // The adapter keeps the second before the start (a crash loop's last words): restart well after the error.
        let started = try #require(container.state.startedAt.flatMap(ContainerInfo.parseDockerDate))
        let wait = 2.5 - Date().timeIntervalSince(started)
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        _ = await DockerTestStack.run(["docker", "restart", "-t", "0", container.id])
        try await Task.sleep(for: .seconds(1))

        var restarted = context
        restarted.compose = ComposeAdapter(environment: context.environment, workingDirectory: context.workingDirectory)
        let observation = try await probe(search).run(restarted)
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.hasPrefix("no error in the 1 line since log-restarted started "))
        let all = await DockerTestStack.run(["docker", "logs", container.id])
        #expect(all.stdout.contains("redis.exceptions.AuthenticationError"))
    }

    @Test func aServiceNeverCreatedIsAnError() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("never")]).run(context)
        #expect(observation.outcome == .error)
        #expect(observation.cause == "not-created")
    }

    // MARK: Real Python processes

    @Test(arguments: [
        ("import app.tasks", "import-error", "ModuleNotFoundError: No module named 'app'"),
        ("import os; os.environ['REDIS_URL']", "missing-setting", "KeyError: 'REDIS_URL'"),
        (
            "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)", "unclassified",
            "ConnectionRefusedError: [Errno 111] Connection refused"
        ),
    ])
    func pythonTracebackCapturedToAFileIsClassified(code: String, cause: String, line: String) async throws {
        let directory = try temporaryDirectory("log-errors")
        let ran = await ProcessRunner.run(
            ["/bin/sh", "-c", "echo 'booting'; exec python3 -c \"$0\" 2>>app.log", code], workingDirectory: directory,
            timeout: .seconds(20))
        #expect(ran.exitStatus == 1)
        let observation = try await probe(["file": .scalar("app.log")]).run(localContext(directory))
        #expect(observation.cause == cause)
        #expect(
            observation.evidence.contains {
                $0.hasPrefix("most recent error (1 of 1 error lines in the ") && $0.hasSuffix(line)
            })
        #expect(observation.evidence.contains { $0.hasSuffix(#"frame: File "<string>", line 1, in <module>"#) })
    }

    @Test func aProgramsOutputIsScannedLikeAFile() async throws {
        let observation = try await probe([
            "command": .list([.scalar("python3"), .scalar("-c"), .scalar("raise MemoryError")])
        ]).run(localContext("/"))
        #expect(observation.cause == "out-of-memory")
        #expect(observation.evidence.first == "$ python3 -c 'raise MemoryError' exited with 1")
    }

    // MARK: The table and the scan

    @Test(arguments: [
        ("consumer: Cannot connect to redis://redis:6379/0: Authentication required..", "redis-auth"),
        (
            "consumer: Cannot connect to redis://redis:6379/0: Error -3 connecting to redis:6379. Temporary failure in name resolution..",
            "dns-failure"
        ),
        ("consumer: Cannot connect to redis://redis:6379/0: Timeout connecting to server.", "broker-unreachable"),
        ("redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.", "redis-auth"),
        ("redis.exceptions.AuthenticationError: invalid password", "redis-auth"),
        ("redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.", "redis-maxmemory"),
        ("redis.exceptions.ReadOnlyError: You can't write against a read only replica.", "redis-read-only"),
        (
            "redis.exceptions.ResponseError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
            "redis-persistence"
        ),
        (#"ERROR:    Error loading ASGI app. Could not import module "app.main"."#, "import-error"),
        (
            "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
            "port-in-use"
        ),
        ("urllib.error.URLError: <urlopen error [Errno 99] Cannot assign requested address>", "localhost-in-container"),
        ("pydantic.error_wrappers.ValidationError: 1 validation error for Settings", "missing-setting"),
        ("OSError: [Errno 30] Read-only file system: '/tmp/heartbeat'", "read-only-filesystem"),
        ("PermissionError: [Errno 13] Permission denied: '/tmp/heartbeat'", "permission-denied"),
        (
            "[2026-11-28 12:00:00,000: ERROR/MainProcess] Received unregistered task of type 'app.workers.tasks.sub'.",
            "unregistered-task"
        ),
        (
            "[2026-11-28 12:00:00,000: CRITICAL/MainProcess] Unrecoverable error: Connection to broker lost.",
            "broker-unreachable"
        ),
        ("TimeoutError: timed out", "timeout"),
        (
            "streamlit.errors.StreamlitAPIException: `set_page_config()` can only be called once per app page",
            "app-exception"
        ),
        (
            "ERROR Failed to connect to backend: HTTPConnectionPool(host='backend', port=8000): Connection refused",
            "backend-unreachable"
        ),
        ("ERROR:    Application startup failed. Exiting.", "startup-failed"),
        ("ERROR: connection to http://backend:8000 refused (Connection refused)", "unclassified"),
    ])
    func knownMessagesAreClassified(line: String, cause: String) async throws {
        let observation = try await scanned("INFO starting\n\(line)\nINFO retrying\n")
        #expect(observation.cause == cause)
    }

    @Test func aStreamlitTracebackIsClassifiedByTheLineBeforeIt() async throws {
        let text = """
            2026-11-28 12:00:00.000 Uncaught app exception
            Traceback (most recent call last):
              File "/usr/lib/python3/dist-packages/streamlit/runtime/scriptrunner/script_runner.py", line 565, in _run_script
                exec(code, module.__dict__)
              File "/app/streamlit_app.py", line 12, in <module>
                st.write(result["summary"])
            KeyError: 'summary'

            """
        let observation = try await scanned(text)
        #expect(observation.cause == "app-exception")
        #expect(
            observation.summary
                == "app.log's most recent error: the Streamlit app raised an exception (Uncaught app exception)")
        #expect(
            observation.evidence.contains { $0.hasSuffix("1 of 1 error lines in the 7 lines): KeyError: 'summary'") })
    }

    @Test func theWorkersImportErrorEndsInItsException() async throws {
        // The lab's worker-import-error fault, as the real Celery 5.2 prints it.
        let text = """
            Usage: python -m celery [OPTIONS] COMMAND [ARGS]...
            Try 'python -m celery --help' for help.

            Error: Invalid value for '-A' / '--app':
            Unable to load celery application.
            While trying to load the module app.workers.tasks.celery the following error occurred:
            Traceback (most recent call last):
              File "/usr/lib/python3/dist-packages/celery/bin/celery.py", line 57, in convert
                return find_app(value)
              File "<frozen importlib._bootstrap>", line 1140, in _find_and_load_unlocked
            ModuleNotFoundError: No module named 'nonexistent_module'

            """
        let observation = try await scanned(text)
        #expect(observation.cause == "import-error")
        #expect(
            observation.evidence.contains {
                $0.hasSuffix(
                    "2 of 3 error lines in the 11 lines): ModuleNotFoundError: No module named 'nonexistent_module'")
            })
        #expect(
            observation.evidence.contains(
                "logged after: While trying to load the module app.workers.tasks.celery the following error occurred:"))
        #expect(
            observation.evidence.contains(
                #"last frame: File "<frozen importlib._bootstrap>", line 1140, in _find_and_load_unlocked"#))
    }

    @Test func aChainedTracebackIsOneErrorEndingInTheLastException() async throws {
        let text = """
            Traceback (most recent call last):
              File "/app/settings.py", line 3, in <module>
            KeyError: 'REDIS_URL'

            During handling of the above exception, another exception occurred:

            Traceback (most recent call last):
              File "/app/main.py", line 9, in <module>
            RuntimeError: cannot start without Redis
            """
        let observation = try await scanned(text)
        #expect(observation.cause == "unclassified")
        #expect(
            observation.evidence.contains {
                $0.hasSuffix("1 of 1 error lines in the 9 lines): RuntimeError: cannot start without Redis")
            })
    }

    @Test func aPasswordInTheErrorLineIsNotShown() async throws {
        let observation = try await scanned(
            "consumer: Cannot connect to redis://:s3cr3t-pass@redis:6379/0: Authentication required..\n")
        #expect(observation.cause == "redis-auth")
        #expect(!"\(observation)".contains("s3cr3t-pass"))
        #expect(observation.evidence.contains { $0.contains("redis://:***@redis:6379/0") })
    }

    @Test func megabyteLinesAreScannedInLinearTime() async throws {
        let letters = String(repeating: "a", count: 1 << 20)
        let hex = String(repeating: "0123456789abcdef", count: 1 << 16)
        let clean = try await scanned(letters + "\n" + hex + "\n")
        #expect(clean.outcome == .pass)
        #expect(clean.summary == "no error in the 2 lines of app.log")

        // The same lines ending in an error: the exception-line rule runs over a megabyte of name characters.
        let failing = try await scanned(letters + "\n" + hex + "\n" + letters + "Error: boom\n")
        #expect(failing.cause == "unclassified")
        let shown = try #require(failing.evidence.first { $0.hasPrefix("most recent error") })
        #expect(shown.hasSuffix("more characters)"))
        #expect(shown.count < 500)
    }

    // MARK: Arguments

    @Test func signatureEntriesAreChecked() {
        let cases: [(ArgumentValue, ProbeArgumentError)] = [
            (.scalar("x"), ProbeArgumentError("signatures", "expected a list of {pattern, cause, title} maps")),
            (.list([.map(["cause": .scalar("c")])]), ProbeArgumentError("signatures.0.pattern", "is required")),
            (.list([.map(["pattern": .scalar("x")])]), ProbeArgumentError("signatures.0.cause", "is required")),
            (
                .list([.map(["pattern": .scalar("x"), "cause": .scalar("c"), "titel": .scalar("t")])]),
                ProbeArgumentError("signatures.0.titel", "unknown key; a signature has cause, context, pattern, title")
            ),
            (
                .list([.scalar("x")]),
                ProbeArgumentError(
                    "signatures.0", "expected a map with 'pattern', 'cause' and optionally 'title', 'context'")
            ),
            (
                .list([.map(["pattern": .scalar("x"), "cause": .scalar("two words")])]),
                ProbeArgumentError(
                    "signatures.0.cause",
                    "'two words' must be a plain name (letters, digits, '-', '_'), as 'on.fail' routes it")
            ),
        ]
        for (signatures, expected) in cases {
            #expect(throws: expected) { try probe(["service": .scalar("worker"), "signatures": signatures]) }
        }
    }
}
