import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Testing

/// The tcp probe against real listeners on loopback.
@Suite struct TCPProbeTests {
    func run(host: String, port: Int, timeout: Duration = .seconds(5)) async throws -> Observation {
        let probe = try ProbeKind.tcp.make(ProbeArguments(["host": .scalar(host), "port": .scalar(String(port))]))
        return await probe.run(ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/"))
    }

    @Test func tcpProbePassesWhenAConnectionIsAccepted() async throws {
        let server = try await HostileServer(.silent)
        let observation = try await run(host: "127.0.0.1", port: server.port)
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("connected to 127.0.0.1:\(server.port)"))
    }

    @Test func tcpProbeConnectsOverIPv6Loopback() async throws {
        let server = try await HostileServer(.silent, host: "::1")
        let observation = try await run(host: "::1", port: server.port)
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains("connected to [::1]:\(server.port)"))
    }

    @Test func tcpProbeReportsRefusedPort() async throws {
        let server = try await HostileServer(.silent)
        server.stop()
        let observation = try await run(host: "127.0.0.1", port: server.port)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connection-refused")
        #expect(observation.evidence.contains("127.0.0.1:\(server.port): connection refused"))
    }

    @Test func tcpProbeReportsAnUnresolvableHost() async throws {
        let observation = try await run(host: unresolvableHost, port: 80)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "dns-failure")
    }

    @Test func tcpProbeReportsConnectTimeoutOnAFullBacklog() async throws {
        let server = try await HostileServer(.full)
        let clock = ContinuousClock()
        let began = clock.now
        let observation = try await run(host: "127.0.0.1", port: server.port, timeout: .milliseconds(600))
        #expect(began.duration(to: clock.now) < hangGuard)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connect-timeout")
    }

    @Test func tcpProbeRejectsBadPorts() {
        for port in ["0", "65536", "http"] {
            #expect(throws: ProbeArgumentError.self) {
                try ProbeKind.tcp.make(ProbeArguments(["host": .scalar("h"), "port": .scalar(port)]))
            }
        }
    }
}
