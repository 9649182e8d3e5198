import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Testing

/// The redis probe against real redis-server processes and hostile listeners on loopback.
@Suite struct RedisProbeTests {
    func probe(_ arguments: [String: String]) throws -> any Probe {
        try ProbeKind.redis.make(ProbeArguments(arguments.mapValues { .scalar($0) }))
    }

    func run(_ arguments: [String: String], timeout: Duration = .seconds(5)) async throws -> Observation {
        try await probe(arguments).run(ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/"))
    }

    /// Runs the probe and checks it ended, not hung (its cause says whether its own deadline ended it).
    func runBounded(_ arguments: [String: String], timeout: Duration) async throws -> Observation {
        let clock = ContinuousClock()
        let began = clock.now
        let observation = try await run(arguments, timeout: timeout)
        #expect(began.duration(to: clock.now) < hangGuard)
        return observation
    }

    @Test func redisProbePassesOnPong() async throws {
        let server = try await RedisServer.start()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("PING -> PONG"))
        #expect(observation.evidence.contains { $0.hasPrefix("server: redis 7.") })
        #expect(observation.evidence.contains("db: 0"))
        #expect(observation.evidence.contains { $0.hasPrefix("time: ") })
    }

    @Test func redisProbeSelectsTheDatabaseOfTheURL() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["-n", "3", "SET", "marker", "in-db-3"])
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)/3", "command": "GET marker"])
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("db: 3"))
        #expect(observation.evidence.contains("GET marker -> \"in-db-3\""))

        let outOfRange = try await run(["url": "redis://127.0.0.1:\(server.port)/99"])
        #expect(outOfRange.outcome == .fail)
        #expect(outOfRange.cause == "error-reply")
    }

    @Test func redisProbeReportsAnErrorReplyOfACommand() async throws {
        let server = try await RedisServer.start()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)", "command": "NOSUCHCOMMAND x"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "error-reply")
        #expect(observation.summary.contains("unknown command"))
    }

    @Test func redisProbeTellsMissingFromWrongPassword() async throws {
        let server = try await RedisServer.start(["--requirepass", "s3cret-pw"])
        let missing = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(missing.outcome == .fail)
        #expect(missing.cause == "auth-required")

        let wrong = try await run(["url": "redis://:not-it@127.0.0.1:\(server.port)"])
        #expect(wrong.outcome == .fail)
        #expect(wrong.cause == "auth-failed")

        let right = try await run(["url": "redis://:s3cret-pw@127.0.0.1:\(server.port)"])
        #expect(right.outcome == .pass)
    }

    @Test func redisProbeAuthenticatesAnACLUser() async throws {
        let server = try await RedisServer.start(["--user", "alice", "on", ">alice-pw", "~*", "+@all"])
        let right = try await run(["url": "redis://alice:alice-pw@127.0.0.1:\(server.port)"])
        #expect(right.outcome == .pass)
        let wrong = try await run(["url": "redis://alice:wrong-pw@127.0.0.1:\(server.port)"])
        #expect(wrong.cause == "auth-failed")
        #expect(wrong.summary.contains("WRONGPASS"))
    }

    @Test func redisProbeNeverShowsThePassword() async throws {
        let password = "hunter2-very-secret"
        let server = try await RedisServer.start(["--requirepass", password])
        var observations: [Observation] = []
        observations.append(try await run(["url": "redis://:\(password)@127.0.0.1:\(server.port)/2", "queue": "q"]))
        observations.append(try await run(["url": "redis://default:\(password)@127.0.0.1:\(server.port)"]))
        observations.append(try await run(["url": "redis://:\(password)x@127.0.0.1:\(server.port)"]))
        observations.append(try await run(["url": "rediss://:\(password)@127.0.0.1:\(server.port)"]))
        observations.append(
            try await run([
                "url": "redis://:\(password)@127.0.0.1:\(server.port)", "command": "CONFIG GET requirepass",
            ]))
        server.stop()
        observations.append(try await run(["url": "redis://:\(password)@127.0.0.1:\(server.port)"]))
        #expect(observations.map(\.outcome) == [.pass, .pass, .fail, .error, .pass, .fail])
        for observation in observations {
            #expect(!observation.summary.contains(password))
            #expect(!observation.evidence.contains { $0.contains(password) })
        }
        #expect(observations[0].evidence.contains("url: redis://:***@127.0.0.1:\(server.port)/2"))

        let error = #expect(throws: ProbeArgumentError.self) {
            try probe(["url": "redis://:\(password)@127.0.0.1:notaport"])
        }
        #expect(error?.argument == "url")
        #expect(error?.description.contains(password) == false)
    }

    @Test func redisProbeReportsRefusedPortOfAStoppedServer() async throws {
        let server = try await RedisServer.start()
        server.stop()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connection-refused")
    }

    @Test func redisProbeReportsQueueTooLong() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["LPUSH", "celery", "a", "b", "c", "d", "e"])
        let url = "redis://127.0.0.1:\(server.port)/0"
        let long = try await run(["url": url, "queue": "celery", "max_queue": "3"])
        #expect(long.outcome == .fail)
        #expect(long.cause == "queue-too-long")
        #expect(long.evidence.contains("LLEN celery -> (integer) 5"))

        let fine = try await run(["url": url, "queue": "celery", "max_queue": "10"])
        #expect(fine.outcome == .pass)
        #expect(fine.evidence.contains("LLEN celery -> (integer) 5"))

        let wrongType = try await run(["url": url, "queue": "notalist", "command": "SET notalist x"])
        #expect(wrongType.cause == "error-reply")
    }

    @Test func redisProbeReportsLoading() async throws {
        let server = try await RedisServer.startLoading()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "loading")
    }

    @Test func redisProbeRejectsTLSAndBadURLs() async throws {
        let tls = try await run(["url": "rediss://127.0.0.1:6380"])
        #expect(tls.outcome == .error)
        #expect(tls.cause == "tls-unsupported")

        for url in ["http://127.0.0.1", "redis://", "redis://host:0", "redis://host/abc", "redis://user@host"] {
            #expect(throws: ProbeArgumentError.self, "\(url)") { try probe(["url": url]) }
        }
        #expect(throws: ProbeArgumentError.self) { try probe(["url": "redis://h", "max_queue": "3"]) }
    }

    @Test func redisProbeTimesOutOnASilentListener() async throws {
        let server = try await HostileServer(.silent)
        let observation = try await runBounded(["url": "redis://127.0.0.1:\(server.port)"], timeout: .milliseconds(500))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "reply-timeout")
    }

    @Test func redisProbeTimesOutOnADrippingReply() async throws {
        let server = try await HostileServer(.drip)
        let observation = try await runBounded(
            ["url": "redis://127.0.0.1:\(server.port)"], timeout: .milliseconds(1500))
        #expect(observation.cause == "reply-timeout")
        #expect(observation.evidence.contains { $0.hasPrefix("reply starts: +") })
    }

    @Test func redisProbeCallsAnHTTPServerNotRedis() async throws {
        let server = try await HostileServer(.http)
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-redis")
        #expect(observation.evidence.contains { $0.contains("HTTP/1.1 400") })
    }

    @Test(arguments: [HostileServer.Mode.endless, .random])
    func redisProbeStopsReadingAnEndlessReply(mode: HostileServer.Mode) async throws {
        let server = try await HostileServer(mode)
        let observation = try await runBounded(["url": "redis://127.0.0.1:\(server.port)"], timeout: .seconds(3))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-redis")
    }

    @Test func redisProbeReportsAReset() async throws {
        let server = try await HostileServer(.reset)
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(["connection-reset", "connection-closed"].contains(observation.cause))
    }

    @Test func redisProbeReportsAnUnresolvableHost() async throws {
        let observation = try await run(["url": "redis://\(unresolvableHost):6379"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "dns-failure")
        #expect(observation.evidence.contains { $0.hasPrefix("resolver: ") })
    }

    @Test func redisProbeReportsConnectTimeoutOnAFullBacklog() async throws {
        let server = try await HostileServer(.full)
        let observation = try await runBounded(["url": "redis://127.0.0.1:\(server.port)"], timeout: .milliseconds(700))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connect-timeout")
    }

    @Test func redisProbeStopsWhenCancelled() async throws {
        let server = try await HostileServer(.silent)
        let flag = CancellationFlag()
        let context = ProbeContext(timeout: .seconds(30), environment: [:], workingDirectory: "/", cancellation: flag)
        let probe = try probe(["url": "redis://127.0.0.1:\(server.port)"])
        let clock = ContinuousClock()
        let began = clock.now
        async let observation = probe.run(context)
        try await Task.sleep(for: .milliseconds(200))
        flag.cancel()
        #expect(await observation.cause == "cancelled")
        #expect(began.duration(to: clock.now) < hangGuard)
    }

    @Test func redisExchangeJudgesRawReplyBytes() {
        let exchange = RedisExchange(user: nil, password: nil, db: 0, command: ["PING"], queue: nil, maxQueue: nil)
        #expect(exchange.request == Array("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n*1\r\n$4\r\nPING\r\n".utf8))
        let info = "# Server\r\nredis_version:7.2.4\r\n"
        let reply = Array("$\(info.utf8.count)\r\n\(info)\r\n+PONG\r\n".utf8)
        #expect(exchange.isComplete(reply))
        #expect(!exchange.isComplete(reply.dropLast()))
        let passed = exchange.judge(reply, stoppedBy: nil, timeout: .seconds(1))
        #expect(passed.outcome == .pass)
        #expect(passed.evidence.contains("server: redis 7.2.4"))

        let loading = exchange.judge(
            Array("-LOADING Redis is loading\r\n".utf8), stoppedBy: .closed, timeout: .seconds(1))
        #expect(loading.cause == "loading")
        let closed = exchange.judge(Array(reply.prefix(10)), stoppedBy: .closed, timeout: .seconds(1))
        #expect(closed.cause == "connection-closed")
    }

    @Test func redisCommandWordsHonourQuotes() {
        #expect(RedisExchange.words("GET key") == ["GET", "key"])
        #expect(RedisExchange.words(#"SET k "a b" ''"#) == ["SET", "k", "a b", ""])
        #expect(RedisExchange.words("  ") == nil)
        #expect(RedisExchange.words(#"GET "open"#) == nil)
    }
}
