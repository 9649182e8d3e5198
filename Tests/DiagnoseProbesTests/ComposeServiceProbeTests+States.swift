import DiagnoseCompose
import DiagnoseTestSupport
import Testing

@testable import DiagnoseProbes

/// `compose-service` on the states a container reaches at run time: paused, killed, stopped by hand, dead.
extension ComposeServiceProbeTests {
    @Test func aPausedContainerFailsBothExpectationsAndShowsItsFrozenHealth() async throws {
        // Docker reports a paused container with Running true and marks its health unhealthy once the checks stop.
        for expect in ["running", "healthy"] {
            let observation = try await observe("paused", expect: expect)
            #expect(observation.outcome == .fail)
            #expect(observation.cause == "paused")
            #expect(observation.summary.contains("docker compose unpause paused"))
            #expect(observation.evidence.contains("state: paused"))
            #expect(observation.evidence.contains { $0.hasPrefix("health: frozen at healthy while paused") })
            #expect(!observation.evidence.contains { $0.hasPrefix("exit ") })
        }
    }

    @Test func aContainerKilledWithSigkillIsExitedWithTheKillExplained() async throws {
        let observation = try await observe("killed")
        #expect(observation.cause == "exited")
        #expect(
            observation.evidence.contains("exit 137: killed (SIGKILL: docker kill, or stop after the grace period)"))
        #expect(!observation.evidence.contains("oom-killed: true"))
        #expect(observation.evidence.contains { $0.hasPrefix("finished at: ") })
    }

    @Test func aContainerStoppedCleanlyWithoutRestartPolicyIsExitedZero() async throws {
        let observation = try await observe("stopped")
        #expect(observation.cause == "exited")
        #expect(observation.summary.hasSuffix("exited 0: stopped cleanly (docker compose stop) or finished"))
        #expect(observation.evidence.contains("exit 0: stopped cleanly (docker compose stop) or finished"))
        #expect(observation.evidence.contains("restart policy: no"))
    }

    @Test func aContainerStoppedAgainstItsRestartPolicyIsStopped() async throws {
        let observation = try await observe("halted")
        #expect(observation.cause == "stopped")
        #expect(observation.summary.contains("unless-stopped"))
        #expect(observation.summary.contains("docker compose start halted"))
        #expect(observation.evidence.contains("restart policy: unless-stopped"))
    }

    @Test func aContainerWhoseRemovalFailedIsDead() async throws {
        let observation = try await observe("dead")
        #expect(observation.cause == "dead")
        #expect(observation.evidence.contains("state: dead"))
        let error = try #require(observation.evidence.first { $0.hasPrefix("engine error: ") })
        #expect(error.contains("failed to remove root filesystem"))
    }

    @Test func aContainerCreatedButNeverStartedIsNotStarted() async throws {
        let observation = try await observe("created")
        #expect(observation.cause == "not-started")
        #expect(observation.evidence.contains("state: created"))
        #expect(!observation.evidence.contains { $0.hasPrefix("exit ") || $0.hasPrefix("started at: ") })
    }

    @Test func runningContainersShowTheirRestartPolicyAndStart() async throws {
        let observation = try await observe("healthy")
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("restart policy: no"))
        #expect(observation.evidence.contains { $0.hasPrefix("started at: 20") })
        #expect(!observation.evidence.contains { $0.hasPrefix("finished at: ") })
    }

    @Test(arguments: [
        (0, "stopped cleanly (docker compose stop) or finished", false),
        (143, "stopped by SIGTERM (docker compose stop) or terminated", false),
        (137, "killed (SIGKILL: docker kill, or stop after the grace period)", false),
        (139, "crashed (signal 11)", true), (2, "crashed", true),
    ])
    func exitCodesAreExplained(code: Int, text: String, crashed: Bool) {
        let meaning = ComposeServiceProbe.exitMeaning(code)
        #expect(meaning.text == text)
        #expect(meaning.crashed == crashed)
    }
}
