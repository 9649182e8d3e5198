import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite struct DockerUnavailableTests {
    func context(_ environment: [String: String]) throws -> ProbeContext {
        let directory = try temporaryDirectory("unavailable")
        return ProbeContext(timeout: .seconds(10), environment: environment, workingDirectory: directory)
    }

    func probes() throws -> [any Probe] {
        [
            try ComposeServiceProbe(ProbeArguments(["service": .scalar("web")])),
            try LogsProbe(ProbeArguments(["service": .scalar("web"), "pattern": .scalar("x")])),
            try CommandProbe(ProbeArguments(["in": .scalar("web"), "argv": .list([.scalar("true")])])),
            try ComposeEnvProbe(
                ProbeArguments(["service": .scalar("web"), "name": .scalar("A"), "set": .scalar("true")])),
        ]
    }

    @Test func withoutDockerOnPathStateStillComesFromTheEngine() async throws {
        let context = try context(["PATH": "/nonexistent", "HOME": "/nonexistent"])
        var causes: [String?] = []
        for probe in try probes() { causes.append(await probe.run(context).cause) }
        // The engine API answers without the CLI: the temporary folder's project has no containers.
        #expect(causes == ["no-project", "not-created", "not-created", "not-created"])
        #expect(context.compose.processesStarted == 0)
        #expect(context.compose.engineRequests >= 2)
    }

    @Test func withoutAnEngineProbesEndInError() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix:///nonexistent.sock"
        let context = try context(environment)
        for probe in try probes() {
            let observation = await probe.run(context)
            #expect(observation.outcome == .error)
            #expect(observation.cause == "engine-unreachable")
            #expect(observation.summary.contains("nonexistent.sock"))
        }
        // The failed negotiation is shared too: one request, no process, for all four probes.
        #expect(context.compose.processesStarted == 0)
        #expect(context.compose.engineRequests == 1)
    }
}
