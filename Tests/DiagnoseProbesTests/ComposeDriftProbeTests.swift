import DiagnoseCompose
import DiagnoseTestSupport
import Testing

@testable import DiagnoseProbes

/// `compose-drift` compares what services must agree on from their containers: a variable field by field, and the
/// queue a Celery worker consumes.
@Suite(.serialized) struct ComposeDriftProbeTests {
    func observe(_ arguments: [String: ArgumentValue]) async throws -> Observation {
        let context = try await DockerTestStack.shared.context()
        return try await ComposeDriftProbe(ProbeArguments(arguments)).run(context)
    }

    func compare(_ services: [String], _ variable: String = "REDIS_URL") async throws -> Observation {
        try await observe(["services": .list(services.map { .scalar($0) }), "variable": .scalar(variable)])
    }

    func queue(_ service: String, _ name: String = "celery") async throws -> Observation {
        try await observe(["services": .list([.scalar(service)]), "celery_queue": .scalar(name)])
    }

    @Test func urlsDifferingInTheDatabaseDifferByThatFieldAlone() async throws {
        let observation = try await compare(["healthy", "drift-db"])
        #expect(observation.cause == "differs")
        #expect(observation.summary == "REDIS_URL differs between healthy and drift-db: database")
        #expect(observation.evidence.contains("database: healthy 0, drift-db 1"))
        #expect(observation.evidence.contains("same: scheme, host, port, password"))
        #expect(!(observation.summary + observation.evidence.joined()).contains("s3cr3t-pass"))
    }

    @Test func aDifferingPasswordIsOnlySaidToDiffer() async throws {
        let observation = try await compare(["healthy", "drift-pass"])
        #expect(observation.cause == "differs")
        #expect(observation.evidence.contains("password: differs"))
        let shown = observation.summary + observation.evidence.joined()
        #expect(!shown.contains("s3cr3t-pass") && !shown.contains("0ther-s3cret"))
    }

    @Test func theSameURLInAStoppedContainerAgreesAndSaysItIsStopped() async throws {
        let observation = try await compare(["healthy", "stopped"])
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.hasPrefix("REDIS_URL agrees across healthy and stopped: same scheme, host"))
        #expect(observation.evidence[0].contains("stopped (\(DockerTestStack.projectName)_stopped_1, exited)"))
    }

    @Test func aVariableSetInOneServiceOnlyIsUnset() async throws {
        let observation = try await compare(["healthy", "plain"])
        #expect(observation.cause == "unset")
        #expect(observation.summary == "REDIS_URL is set in healthy but not in plain")
        let none = try await compare(["plain", "web"])
        #expect(none.cause == "unset")
    }

    @Test func textValuesOfSecretNamesAreNeverShown() async throws {
        let secret = try await compare(["healthy", "drift-db"], "API_KEY")
        #expect(secret.cause == "unset")
        #expect(!(secret.summary + secret.evidence.joined()).contains("sk-test"))
        let text = try await observe([
            "services": .list([.scalar("healthy"), .scalar("drift-db")]), "variable": .scalar("REDIS_URL"),
            "as": .scalar("text"),
        ])
        #expect(text.cause == "differs")
        #expect(text.evidence.contains { $0.hasPrefix("value: healthy 'redis://:***@redis:6379/0'") })
    }

    @Test func aServiceWithoutContainerIsNotCreated() async throws {
        let observation = try await compare(["healthy", "never"])
        #expect(observation.outcome == .error)
        #expect(observation.cause == "not-created")
    }

    @Test func aWorkerConsumingOtherQueuesIsAQueueMismatch() async throws {
        let observation = try await queue("celery-q")
        #expect(observation.cause == "queue-mismatch")
        #expect(observation.evidence.contains("the worker consumes 'lab-priority'; the producer enqueues to 'celery'"))
        #expect(
            observation.evidence.contains { $0.hasPrefix("command: /bin/sh -c ") && $0.hasSuffix("-Q lab-priority") })
    }

    @Test func aWorkerWithoutQueuesConsumesCeleryAndAListMayIncludeIt() async throws {
        let plain = try await queue("celery-default")
        #expect(plain.outcome == .pass)
        #expect(plain.summary.hasSuffix("consumes 'celery' (no -Q: Celery's default queue)"))
        let many = try await queue("celery-many")
        #expect(many.outcome == .pass, "\(many)")
        let other = try await queue("celery-many", "lab-priority")
        #expect(other.cause == "queue-mismatch")
        #expect(
            other.evidence.contains("the worker consumes 'bulk', 'celery'; the producer enqueues to 'lab-priority'"))
    }

    @Test func aCommandLineWithoutCeleryIsNotCelery() async throws {
        let observation = try await queue("web")
        #expect(observation.outcome == .error)
        #expect(observation.cause == "not-celery")
    }

    @Test(arguments: [
        (["celery", "-A", "app", "worker", "-Q", "a,b"], ["a", "b"]),
        (["/usr/local/bin/celery", "worker", "-Qa,b"], ["a", "b"]),
        (["python", "-m", "celery", "worker", "--queues=a"], ["a"]),
        (["sh", "-c", "exec celery -A app worker --queues a -Q b"], ["b"]),
    ])
    func queueOptionsAreRead(command: [String], queues: [String]) throws {
        #expect(try #require(CeleryQueues(command: command)).queues == queues)
    }

    @Test func urlFieldsUseTheSchemesDefaults() throws {
        let short = try #require(URLFields(parsing: "redis://redis"))
        let full = try #require(URLFields(parsing: "redis://redis:6379/0"))
        #expect(short == full)
        let password = try #require(URLFields(parsing: "redis://user:p@ss@Cache:6380/2?ssl=1"))
        #expect(password[.user] == "user")
        #expect(password[.password] == "p@ss")
        #expect(password[.host] == "cache")
        #expect(password[.database] == "2")
        #expect(password[.query] == "ssl=1")
        #expect(URLFields(parsing: "not a url") == nil)
    }

    @Test func argumentsAreChecked() {
        #expect(throws: ProbeArgumentError.self) {
            try ComposeDriftProbe(ProbeArguments(["services": .scalar("a"), "variable": .scalar("X")]))
        }
        #expect(throws: ProbeArgumentError.self) {
            try ComposeDriftProbe(
                ProbeArguments([
                    "services": .list([.scalar("a"), .scalar("b")]), "variable": .scalar("X"),
                    "celery_queue": .scalar("q"),
                ]))
        }
    }
}
