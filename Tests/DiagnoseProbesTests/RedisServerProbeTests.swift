import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

/// The redis-server probe against real redis-server processes put into each state on loopback.
@Suite struct RedisServerProbeTests {
    func run(_ arguments: [String: String], timeout: Duration = .seconds(5)) async throws -> Observation {
        try await ProbeKind.redisServer.make(ProbeArguments(arguments.mapValues { .scalar($0) })).run(
            ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/"))
    }

    @Test func redisServerProbePassesOnAHealthyMaster() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["SET", "a", "1"])
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .pass)
        #expect(observation.summary.hasPrefix("Redis 7."))
        #expect(observation.summary.contains("is a master, accepts writes: used "))
        #expect(observation.summary.contains("of no limit, last save ok, 1 client"))
        #expect(observation.evidence.contains("role: master"))
        #expect(observation.evidence.contains("rdb_last_bgsave_status: ok"))
        #expect(observation.evidence.contains("maxmemory-policy: noeviction"))
        #expect(observation.evidence.contains("stop-writes-on-bgsave-error: yes"))
        #expect(observation.evidence.contains("connected_clients: 1 of maxclients 10000"))
        #expect(observation.evidence.contains("rejected_connections: 0"))
        #expect(observation.evidence.contains { $0.hasPrefix("dir: /") && $0.contains("diagnose-test-") })
        #expect(!observation.evidence.contains { $0.hasPrefix("config: ") })
    }

    @Test func redisServerProbeAuthenticatesAndNeverShowsThePassword() async throws {
        let password = "s3cret-server-pw"
        let server = try await RedisServer.start(["--requirepass", password])
        let missing = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(missing.cause == "auth-required")
        let wrong = try await run(["url": "redis://:not-it@127.0.0.1:\(server.port)"])
        #expect(wrong.cause == "auth-failed")
        let right = try await run(["url": "redis://:\(password)@127.0.0.1:\(server.port)/2"])
        #expect(right.outcome == .pass)
        #expect(right.evidence.contains("db: 2"))
        #expect(right.evidence.contains("url: redis://:***@127.0.0.1:\(server.port)/2"))
        for observation in [missing, wrong, right] {
            #expect(!observation.summary.contains(password))
            #expect(!observation.evidence.contains { $0.contains(password) })
        }
    }

    @Test func redisServerProbeFindsAReadOnlyReplica() async throws {
        let server = try await RedisServer.start()
        let closed = try Loopback.freePort()
        try await server.cli(["REPLICAOF", "127.0.0.1", String(closed)])
        #expect(try await server.reply(["LPUSH", "celery", "x"]).contains("READONLY"))
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "read-only-replica")
        #expect(observation.summary.contains("READONLY"))
        #expect(observation.evidence.contains("master: 127.0.0.1:\(closed)"))
        #expect(observation.evidence.contains("master_link_status: down"))
        #expect(observation.evidence.contains("replica-read-only: yes"))

        try await server.cli(["CONFIG", "SET", "replica-read-only", "no"])
        let writable = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(writable.outcome == .pass)
        #expect(writable.summary.contains("is a writable replica"))
    }

    @Test func redisServerProbeFindsMemoryFullWithNoEviction() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["CONFIG", "SET", "maxmemory", "2mb"])
        try await server.cli(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        let refused = try await server.fillUntilOOM()
        #expect(refused.contains("OOM"))
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "maxmemory-reached")
        #expect(observation.summary.contains("OOM"))
        #expect(observation.evidence.contains("maxmemory-policy: noeviction"))
        #expect(observation.evidence.contains { $0.hasPrefix("used_memory: ") && $0.contains("of 2.0 MiB") })

        try await server.cli(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        try await server.cli(["SET", "after", "x"])
        let evicting = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(evicting.outcome == .pass)
        #expect(evicting.evidence.contains("maxmemory-policy: allkeys-lru"))
        #expect(evicting.evidence.contains { $0.hasPrefix("evicted_keys: ") && $0 != "evicted_keys: 0" })
    }

    @Test func redisServerProbeFindsAFailedBackgroundSave() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["CONFIG", "SET", "save", "3600 1"])
        // The server works in its folder; once the folder is gone, a save has nowhere to write, even as root.
        try FileManager.default.removeItem(atPath: server.directory)
        try await server.cli(["BGSAVE"])
        try await server.waitForInfo("rdb_last_bgsave_status:err")
        #expect(try await server.reply(["SET", "k", "v"]).contains("MISCONF"))
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "persistence-failing")
        #expect(observation.summary.contains("MISCONF"))
        #expect(observation.evidence.contains("rdb_last_bgsave_status: err"))
        #expect(observation.evidence.contains("stop-writes-on-bgsave-error: yes"))
        #expect(observation.evidence.contains("dir: (empty: the server cannot name its working folder; removed?)"))
        #expect(observation.evidence.contains { $0.hasPrefix("rdb_changes_since_last_save: ") })

        // Without save points a failed save stops no write: Redis takes them, and so does the probe.
        try await server.cli(["CONFIG", "SET", "save", ""])
        #expect(try await server.reply(["SET", "k", "v"]).contains("OK"))
        let accepting = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(accepting.outcome == .pass)
        #expect(accepting.summary.contains("last save failed (writes still accepted)"))
    }

    @Test func redisServerProbeFindsLoading() async throws {
        let server = try await RedisServer.startLoading()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "loading")
        #expect(observation.evidence.contains("loading: 1"))
        #expect(observation.evidence.contains { $0.hasPrefix("loading_loaded_perc: ") })
    }

    @Test func redisServerProbeFindsMaxClientsReached() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["CONFIG", "SET", "maxclients", "2"])
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "maxclients-reached")
        #expect(observation.evidence.contains("connected_clients: 1 of maxclients 2"))
        #expect(observation.evidence.contains { $0.hasPrefix("rejected_connections: ") })
    }

    @Test func redisServerProbeJudgesFromInfoAloneWithoutConfig() async throws {
        let server = try await RedisServer.start(["--rename-command", "CONFIG", ""])
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains { $0.hasPrefix("config: CONFIG GET refused (") })
        #expect(
            observation.evidence.contains("stop-writes-on-bgsave-error: unknown (CONFIG unreadable), yes by default"))
        #expect(observation.evidence.contains("maxmemory-policy: noeviction"))
        #expect(observation.evidence.contains("connected_clients: 1 of maxclients 10000"))
    }

    @Test func redisServerProbeReportsARefusedPortAndBadArguments() async throws {
        let server = try await RedisServer.start()
        server.stop()
        let observation = try await run(["url": "redis://127.0.0.1:\(server.port)"])
        #expect(observation.cause == "connection-refused")
        for ratio in ["0", "1.5", "most"] {
            #expect(throws: ProbeArgumentError.self) {
                try ProbeKind.redisServer.make(
                    ProbeArguments(["url": .scalar("redis://h"), "memory_ratio": .scalar(ratio)]))
            }
        }
    }
}

extension RedisServer {
    /// Runs `redis-cli` and returns what it printed, error replies included.
    func reply(_ arguments: [String]) async throws -> String {
        let result = await ProcessRunner.run(
            ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", String(port)] + arguments, timeout: .seconds(10),
            mergingStandardError: true)
        return result.stdout
    }

    /// Writes 100 KB at a time until a write is refused (at most 200 rounds); returns the refusal.
    func fillUntilOOM() async throws -> String {
        let script = "for i = 1, 100 do redis.call('SET', KEYS[1] .. i, string.rep('x', 1000)) end"
        for round in 0..<200 {
            let answer = try await reply(["EVAL", script, "1", "fill:\(round):"])
            if answer.contains("OOM") { return answer }
            let write = try await reply(["SET", "probe", "x"])
            if write.contains("OOM") { return write }
        }
        throw TestSetupError("no write was refused after 20 MB")
    }

    /// Waits until `INFO` holds this line (at most 10 s).
    func waitForInfo(_ line: String) async throws {
        for _ in 0..<200 {
            if try await reply(["INFO", "persistence"]).contains(line) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("INFO never showed \(line)")
    }
}
