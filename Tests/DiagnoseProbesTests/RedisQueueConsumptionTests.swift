import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

/// The redis probe's `consumed_within` and `canary` against a real redis-server and real Celery workers.
/// Serialized: each test may start a Python worker, and the machine is shared.
@Suite(.serialized) struct RedisQueueConsumptionTests {
    func run(_ arguments: [String: String], timeout: Duration = .seconds(20)) async throws -> Observation {
        try await ProbeKind.redis.make(ProbeArguments(arguments.mapValues { .scalar($0) })).run(
            ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/"))
    }

    /// What the canary may leave behind: its queue's messages and any stored result.
    func leftovers(_ server: RedisServer, queue: String = "celery") async throws -> String {
        let length = try await server.cli(["LLEN", queue]).trimmingWhitespace()
        let results = try await server.cli(["KEYS", "celery-task-meta-*"]).trimmingWhitespace()
        return "LLEN \(length), results [\(results)]"
    }

    func canaryID(_ observation: Observation) throws -> String {
        let line = try #require(observation.evidence.first { $0.hasPrefix("canary: celery.accumulate ") })
        return String(line.dropFirst("canary: celery.accumulate ".count))
    }

    @Test func aCanaryIsConsumedByARealWorkerAndLeavesNothing() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        let worker = try await CeleryWorker.start(brokerURL: url, queue: "celery")
        defer { worker.stop() }
        let observation = try await run(["url": url, "queue": "celery", "consumed_within": "15s", "canary": "true"])
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.contains("a canary task pushed to 'celery' was taken within "))
        #expect(observation.evidence.contains { $0.hasPrefix("taken after: ") })
        let id = try canaryID(observation)
        // Celery itself ran the canary: the envelope is a task it accepts.
        try await worker.waitForOutput("Task celery.accumulate[\(id)] succeeded")
        #expect(try await leftovers(server) == "LLEN 0, results []")
    }

    @Test func aCanaryWhoseResultIsAwaitedPassesOnceAWorkerRanItAndLeavesNothing() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        let worker = try await CeleryWorker.start(brokerURL: url, queue: "celery")
        defer { worker.stop() }
        let observation = try await run([
            "url": url, "queue": "celery", "consumed_within": "15s", "canary": "true", "canary_result": "true",
        ])
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.contains("was run by a worker within "))
        let id = try canaryID(observation)
        #expect(observation.evidence.contains("result key celery-task-meta-\(id): deleted"))
        try await worker.waitForOutput("Task celery.accumulate[\(id)] succeeded")
        #expect(try await leftovers(server) == "LLEN 0, results []")
    }

    /// A frozen worker (SIGSTOP, what `docker pause` does to every process of a container) may still take the canary
    /// from the list, since its BRPOP was already waiting in Redis; it never runs it, so awaiting the result tells.
    @Test func aFrozenWorkerDoesNotPassForAWorkerThatRunsTheCanary() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        let worker = try await CeleryWorker.start(brokerURL: url, queue: "celery")
        defer { worker.stop() }
        kill(-worker.pid, SIGSTOP)
        defer { kill(-worker.pid, SIGCONT) }
        let observation = try await run([
            "url": url, "queue": "celery", "consumed_within": "2s", "canary": "true", "canary_result": "true",
        ])
        #expect(observation.outcome == .fail, "\(observation)")
        #expect(observation.cause == "not-consumed", "\(observation)")
    }

    @Test func aCanaryNobodyConsumesIsRemoved() async throws {
        let server = try await RedisServer.start()
        let observation = try await run([
            "url": "redis://127.0.0.1:\(server.port)", "queue": "celery", "consumed_within": "1s", "canary": "yes",
        ])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-consumed")
        #expect(observation.summary.contains("was not taken within"))
        #expect(observation.evidence.contains("LLEN celery at start: 0"))
        #expect(observation.evidence.contains("canary removed: yes"))
        #expect(observation.evidence.contains { $0.hasPrefix("watched: ") && $0.hasSuffix(" of 1.0s") })
        _ = try canaryID(observation)
        #expect(try await leftovers(server) == "LLEN 0, results []")
    }

    @Test func aCanaryIsFoundWithoutLPOSAndRemoved() async throws {
        let server = try await RedisServer.start(["--rename-command", "LPOS", ""])
        try await server.cli(["LPUSH", "celery", "older-1", "older-2"])
        let observation = try await run([
            "url": "redis://127.0.0.1:\(server.port)", "queue": "celery", "consumed_within": "1s", "canary": "true",
        ])
        #expect(observation.cause == "not-consumed")
        #expect(observation.evidence.contains { $0.hasPrefix("LPOS unavailable: (error) ERR unknown command") })
        #expect(observation.evidence.contains("LLEN celery at start: 2"))
        #expect(try await server.cli(["LRANGE", "celery", "0", "-1"]) == "older-2\nolder-1\n")
    }

    @Test func aCanaryIsNotConsumedByAWorkerOfAnotherQueue() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        let worker = try await CeleryWorker.start(brokerURL: url, queue: "other")
        defer { worker.stop() }
        let observation = try await run(["url": url, "queue": "celery", "consumed_within": "2s", "canary": "true"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-consumed")
        #expect(observation.evidence.contains("canary removed: yes"))
        #expect(try await leftovers(server) == "LLEN 0, results []")
    }

    @Test func aBacklogThatAWorkerDrainsPasses() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        let worker = try await CeleryWorker.start(brokerURL: url, queue: "celery")
        defer { worker.stop() }
        // Each task takes 0.3 s: with a solo worker the backlog drains one message at a time, over seconds.
        try await CeleryWorker.send("fixture_app.slow", count: 30, brokerURL: url)
        let observation = try await run(["url": url, "queue": "celery", "consumed_within": "15s"])
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.contains(" messages waiting in 'celery' within "))
        #expect(observation.summary.hasPrefix("consumed "))
        #expect(observation.evidence.contains { $0.hasPrefix("oldest: task fixture_app.slow, id ") })
        #expect(observation.evidence.contains { $0.hasPrefix("LLEN celery at end: ") })
    }

    @Test func aBacklogNobodyConsumesFailsWithTheOldestTask() async throws {
        let server = try await RedisServer.start()
        let url = "redis://127.0.0.1:\(server.port)/0"
        try await CeleryWorker.send("fixture_app.slow", count: 3, arguments: ["secret-argument"], brokerURL: url)
        let observation = try await run(["url": url, "queue": "celery", "consumed_within": "1s"])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-consumed")
        #expect(observation.summary.contains("none of the 3 messages waiting in 'celery' was taken"))
        #expect(observation.evidence.contains("LLEN celery at start: 3"))
        #expect(observation.evidence.contains("LLEN celery at end: 3"))
        #expect(observation.evidence.contains { $0.hasPrefix("oldest: task fixture_app.slow, id ") })
        #expect(observation.evidence.contains { $0.hasPrefix("oldest unchanged for: ") })
        #expect(!observation.evidence.contains { $0.contains("secret-argument") })
        #expect(try await server.cli(["LLEN", "celery"]) == "3\n")
    }

    @Test func aWindowLongerThanTheStepIsCutToFitIt() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["LPUSH", "celery", "not json"])
        let observation = try await run(
            ["url": "redis://127.0.0.1:\(server.port)", "queue": "celery", "consumed_within": "30s"],
            timeout: .seconds(1))
        #expect(observation.cause == "not-consumed")
        #expect(observation.evidence.contains { $0.hasPrefix("window: 30s, cut to ") })
        #expect(observation.evidence.contains("oldest: not a Celery message (8 bytes)"))
    }

    @Test func anEmptyQueuePassesWithoutWatching() async throws {
        let server = try await RedisServer.start()
        let observation = try await run([
            "url": "redis://127.0.0.1:\(server.port)", "queue": "celery", "consumed_within": "30s",
        ])
        #expect(observation.outcome == .pass)
        #expect(observation.summary == "nothing waits in 'celery'")
        #expect(observation.evidence.contains("watched: no, the queue is empty"))
        #expect(!observation.evidence.contains { $0.hasPrefix("LLEN celery at end: ") })
    }

    @Test func aCanaryRefusedUnderMaxMemoryNamesTheCause() async throws {
        let server = try await RedisServer.start()
        try await server.cli(["CONFIG", "SET", "maxmemory", "2mb"])
        try await server.cli(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        _ = try await server.fillUntilOOM()
        let observation = try await run([
            "url": "redis://127.0.0.1:\(server.port)", "queue": "celery", "consumed_within": "5s", "canary": "true",
        ])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "maxmemory-reached")
        #expect(observation.evidence.contains { $0.hasPrefix("LPUSH celery -> (error) OOM ") })
        #expect(try await server.cli(["LLEN", "celery"]) == "0\n")
    }

    @Test func consumptionArgumentsNeedTheirCompanions() {
        let make = { (arguments: [String: String]) in
            try ProbeKind.redis.make(ProbeArguments(arguments.mapValues { .scalar($0) }))
        }
        #expect(throws: ProbeArgumentError.self) { try make(["url": "redis://h", "consumed_within": "5s"]) }
        #expect(throws: ProbeArgumentError.self) { try make(["url": "redis://h", "queue": "q", "canary": "true"]) }
        #expect(throws: ProbeArgumentError.self) {
            try make(["url": "redis://h", "queue": "q", "consumed_within": "1s", "canary_result": "true"])
        }
        #expect(throws: ProbeArgumentError.self) {
            try make(["url": "redis://h", "queue": "q", "consumed_within": "0s"])
        }
        #expect(throws: Never.self) {
            try make(["url": "redis://h", "queue": "q", "consumed_within": "5s", "canary": "true"])
        }
    }
}
