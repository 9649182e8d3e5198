import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Testing

@testable import DiagnoseProbes

@Suite(.serialized) struct ComposeServiceProbeTests {
    func observe(_ service: String, expect: String = "running") async throws -> Observation {
        let context = try await DockerTestStack.shared.context()
        let probe = try ComposeServiceProbe(ProbeArguments(["service": .scalar(service), "expect": .scalar(expect)]))
        return await probe.run(context)
    }

    @Test func healthyServicePassesWhenHealthyIsExpected() async throws {
        let observation = try await observe("healthy", expect: "healthy")
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("state: running"))
        #expect(observation.evidence.contains { $0.hasPrefix("health: healthy") })
    }

    @Test func unhealthyServiceFailsWithItsLastHealthcheckOutput() async throws {
        let observation = try await observe("unhealthy", expect: "healthy")
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "unhealthy")
        #expect(
            observation.evidence.contains {
                $0.contains("last healthcheck: exit 1: db check failed: connection refused")
            })
    }

    @Test func unhealthyServiceStillCountsAsRunning() async throws {
        let observation = try await observe("unhealthy")
        #expect(observation.outcome == .pass)
        #expect(observation.summary.contains("(unhealthy)"))
    }

    @Test func serviceWhoseHealthcheckHasNotRunIsStarting() async throws {
        let observation = try await observe("starting", expect: "healthy")
        #expect(observation.cause == "starting")
    }

    @Test func healthyExpectedOfServiceWithoutHealthcheckIsAnError() async throws {
        let observation = try await observe("plain", expect: "healthy")
        #expect(observation.outcome == .error)
        #expect(observation.cause == "no-healthcheck")
    }

    @Test func exitedServiceReportsItsExitCode() async throws {
        let observation = try await observe("exited")
        #expect(observation.cause == "exited")
        #expect(observation.summary.hasSuffix("crashed with exit 3"))
        #expect(observation.evidence.contains("exit 3: crashed"))
        #expect(observation.evidence.contains("restart policy: no"))
    }

    @Test func crashLoopingServiceIsRestarting() async throws {
        let observation = try await observe("restarting")
        #expect(observation.cause == "restarting")
        let restarts = try #require(observation.evidence.first { $0.hasPrefix("restarts: ") })
        #expect(Int(restarts.dropFirst("restarts: ".count)) ?? 0 >= 1)
    }

    @Test func serviceKilledForMemoryIsOomKilled() async throws {
        let observation = try await observe("oom")
        #expect(observation.cause == "oom-killed")
        #expect(observation.evidence.contains("oom-killed: true"))
    }

    @Test func aProjectWithNoContainerAtAllIsTheToolsBlindnessNotAStoppedService() async throws {
        let context = try await DockerTestStack.shared.context()
        let probe = try ComposeServiceProbe(
            ProbeArguments(["service": .scalar("redis"), "project": .scalar("dgtest-no-such-project")]))
        let observation = await probe.run(context)
        #expect(observation.outcome == .error)
        #expect(observation.cause == "no-project")
    }

    @Test func serviceNeverStartedIsNotCreated() async throws {
        let observation = try await observe("never")
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "not-created")
        #expect(observation.evidence.first?.contains("healthy") == true)
    }

    @Test func concurrentProbesShareOneStateRead() async throws {
        let context = try await DockerTestStack.shared.context()
        let services = ["healthy", "unhealthy", "exited", "restarting", "never", "oom", "plain", "starting"]
        let causes = await withTaskGroup(of: String?.self) { group in
            for service in services {
                group.addTask {
                    let probe = try! ComposeServiceProbe(ProbeArguments(["service": .scalar(service)]))
                    return await probe.run(context).cause
                }
            }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(causes.count == services.count)
        // No docker process: one negotiation, one list and one inspection per container, for all eight probes.
        #expect(context.compose.processesStarted == 0)
        let containers = try await context.compose.state(of: DockerTestStack.projectName).get().containers.count
        #expect(context.compose.engineRequests == 2 + containers)
    }
}
