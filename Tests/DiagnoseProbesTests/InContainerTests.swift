import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite(.serialized) struct InContainerTests {
    func command(_ arguments: [String: ArgumentValue]) throws -> CommandProbe {
        try CommandProbe(ProbeArguments(arguments))
    }

    @Test func commandRunsInsideTheServicesContainer() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await command([
            "in": .scalar("healthy"), "shell": .scalar("echo \"$BACKEND_URL\"; cat /etc/hostname >/dev/null"),
            "stdout_matches": .scalar("^http://backend:8000"),
        ]).run(context)
        #expect(observation.outcome == .pass)
        #expect(
            observation.evidence.first?.hasPrefix("$ docker exec \(DockerTestStack.projectName)_healthy_1 /bin/sh -c")
                == true)
    }

    @Test func failingCommandInsideTheContainerIsAFailure() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await command(["in": .scalar("healthy"), "argv": .list([.scalar("false")])]).run(context)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "exit-status")
    }

    @Test func programMissingInTheContainerIsNotFound() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await command([
            "in": .scalar("healthy"), "argv": .list([.scalar("redis-cli"), .scalar("ping")]),
        ])
        .run(context)
        #expect(observation.outcome == .error)
        #expect(observation.cause == "not-found")
    }

    @Test func stoppedContainerCannotRunTheCommand() async throws {
        let context = try await DockerTestStack.shared.context()
        let exited = try await command(["in": .scalar("exited"), "argv": .list([.scalar("true")])]).run(context)
        #expect(exited.outcome == .error)
        #expect(exited.cause == "container-not-running")
        #expect(exited.summary.contains("exited"))
        let never = try await command(["in": .scalar("never"), "argv": .list([.scalar("true")])]).run(context)
        #expect(never.cause == "not-created")
    }

    @Test func adapterExecReturnsTheProcessResult() async throws {
        let adapter = try await DockerTestStack.shared.adapter()
        let execution = try await adapter.exec(
            ["sh", "-c", "echo out; echo err >&2; exit 4"], in: "plain", project: DockerTestStack.projectName,
            timeout: .seconds(10)
        ).get()
        #expect(execution.result.exitStatus == 4)
        #expect(execution.result.stdout == "out\n")
        #expect(execution.result.stderr == "err\n")
        #expect(execution.container.service == "plain")
    }

    @Test func containerEnvironmentVariableIsChecked() async throws {
        let context = try await DockerTestStack.shared.context()
        func env(_ arguments: [String: ArgumentValue]) async throws -> Observation {
            try await ComposeEnvProbe(ProbeArguments(["service": .scalar("healthy")].merging(arguments) { $1 })).run(
                context)
        }
        let backend = try await env(["name": .scalar("BACKEND_URL"), "equals": .scalar("http://localhost:8000")])
        #expect(backend.cause == "not-equal")
        #expect(backend.summary.contains("'http://backend:8000'"))
        let redis = try await env(["name": .scalar("REDIS_URL"), "matches": .scalar("^redis://")])
        #expect(redis.outcome == .pass)
        let key = try await env(["name": .scalar("API_KEY"), "equals": .scalar("wrong")])
        #expect(key.cause == "not-equal")
        #expect(!(key.summary + key.evidence.joined()).contains("sk-test-0123456789"))
        let missing = try await env(["name": .scalar("DGTEST_NOT_THERE"), "set": .scalar("true")])
        #expect(missing.cause == "unset")
        let absent = try await env(["name": .scalar("DGTEST_NOT_THERE"), "set": .scalar("false")])
        #expect(absent.outcome == .pass)
        #expect(context.compose.processesStarted == 0)
    }

    @Test func configEnvironmentVariableIsChecked() async throws {
        let context = try await DockerTestStack.shared.context()
        let probe = try ComposeEnvProbe(
            ProbeArguments([
                "service": .scalar("healthy"), "name": .scalar("BACKEND_URL"), "from": .scalar("config"),
                "equals": .scalar("http://backend:8000"),
            ]))
        let observation = await probe.run(context)
        #expect(observation.outcome == .pass)
        let unknown = try ComposeEnvProbe(
            ProbeArguments([
                "service": .scalar("helthy"), "name": .scalar("BACKEND_URL"), "from": .scalar("config"),
                "set": .scalar("true"),
            ]))
        let missing = await unknown.run(context)
        #expect(missing.cause == "unknown-service")
        #expect(missing.summary.contains("did you mean 'healthy'?"))
    }
}
