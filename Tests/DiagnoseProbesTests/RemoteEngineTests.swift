import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// The engine reached as a remote one: DOCKER_HOST=tcp://127.0.0.1:PORT, where PORT is a relay (Fixtures/
/// tcp_relay.py, loopback only, stopped by pid) to the local engine's socket. What can be seen remotely is the same
/// as over the socket; what needs the engine's host (entering a container's network) says so.
@Suite(.serialized) struct RemoteEngineTests {
    static let socketPresent = FileManager.default.fileExists(atPath: EngineEndpoint.defaultSocket)

    /// Starts the relay and returns it with its DOCKER_HOST.
    func relay() async throws -> (TestProcess, String) {
        let script = try #require(
            Bundle.module.url(forResource: "tcp_relay", withExtension: "py", subdirectory: "Fixtures"))
        let port = try Loopback.freePort()
        let process = try TestProcess("/usr/bin/python3", [script.path, String(port), EngineEndpoint.defaultSocket])
        try await Loopback.waitUntilListening(port: port)
        return (process, "tcp://127.0.0.1:\(port)")
    }

    func adapter(_ dockerHost: String?, _ directory: String) -> ComposeAdapter {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = dockerHost
        environment["DIAGNOSE_COMPOSE"] = "v2"
        return ComposeAdapter(environment: environment, workingDirectory: directory)
    }

    @Test(.enabled(if: socketPresent)) func stateAndLogsOverTCPAreTheSocketsAndInSaysWhyItCannot() async throws {
        let directory = try await DockerTestStack.shared.directory()
        let (relay, host) = try await relay()
        defer { relay.stop() }
        let local = adapter(nil, directory)
        let remote = adapter(host, directory)

        let overSocket = try await local.state(of: DockerTestStack.projectName).get()
        let overTCP = try await remote.state(of: DockerTestStack.projectName).get()
        #expect(!overTCP.containers.isEmpty)
        #expect(overTCP.containers.map(\.id).sorted() == overSocket.containers.map(\.id).sorted())
        // The same state, but for containers whose restart policy is bringing them back: read a moment apart, one
        // may be `restarting` in one read and `running` in the other.
        func settled(_ state: ProjectState) -> [String] {
            state.containers.filter {
                !["always", "unless-stopped"].contains($0.restartPolicy?.name ?? "") || $0.restartCount == 0
            }
            .map { "\($0.name) \($0.state.status)" }.sorted()
        }
        #expect(settled(overTCP) == settled(overSocket))
        #expect(settled(overTCP).count >= overTCP.containers.count - 4)
        #expect(remote.engineRequests > 0 && remote.processesStarted == 0)

        let socketLog = try await local.logs(
            of: "crashing", in: DockerTestStack.projectName, tail: 50, timestamps: false, timeout: .seconds(20)
        ).get()
        let tcpLog = try await remote.logs(
            of: "crashing", in: DockerTestStack.projectName, tail: 50, timestamps: false, timeout: .seconds(20)
        ).get()
        #expect(!tcpLog.result.stdout.isEmpty)
        #expect(tcpLog.result.stdout == socketLog.result.stdout)

        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = host
        let vantage = await ContainerVantage.locate(
            "plain", selector: ComposeProject.Selector(name: DockerTestStack.projectName), compose: remote,
            environment: environment, cancellation: CancellationFlag())
        guard case .failure(let error) = vantage else {
            Issue.record("in: on a remote engine must not stand in the container")
            return
        }
        #expect(error.cause == "remote-engine")
        #expect(error.description.contains(host) && error.description.contains("run diagnose on the engine's host"))
    }
}
