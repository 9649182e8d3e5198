import DiagnoseCompose
import DiagnoseTestSupport
import Testing

@testable import DiagnoseProbes

/// `listeners` reads what a service listens on inside its container, from the host, and holds it against the port
/// others use and the URL its users use.
@Suite(.serialized) struct ListenersProbeTests {
    func observe(_ service: String, port: Int = 8000, hostURL: String? = nil) async throws -> Observation {
        let context = try await DockerTestStack.shared.context()
        var arguments: [String: ArgumentValue] = ["service": .scalar(service), "port": .scalar(String(port))]
        if let hostURL { arguments["host_url"] = .scalar(hostURL) }
        return try await ListenersProbe(ProbeArguments(arguments)).run(context)
    }

    var ports: (toServed: Int, toOther: Int) { DockerTestStack.publishedPorts }

    @Test func aServiceListeningOnEveryAddressPasses() async throws {
        let observation = try await observe("web")
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.contains(":8000; not published"))
        #expect(observation.evidence.contains("published: none"))
        // Docker's embedded DNS server listens in the namespace too; it is not the service's.
        #expect(!observation.evidence.joined().contains("127.0.0.11"))
    }

    @Test func aServiceListeningOnLoopbackOnlyIsLoopbackOnlyAndItsLocalHealthcheckIsNamed() async throws {
        let observation = try await observe("listen-local")
        #expect(observation.cause == "loopback-only")
        #expect(observation.summary.contains("only on 127.0.0.1:8000"))
        #expect(observation.evidence.contains { $0.hasPrefix("healthcheck: CMD-SHELL wget") })
        #expect(observation.evidence.contains { $0.hasPrefix("the healthcheck targets localhost") })
    }

    @Test func aServiceListeningOnAnotherPortIsNotListeningAndSaysWhereItListens() async throws {
        let observation = try await observe("listen-other")
        #expect(observation.cause == "not-listening")
        // busybox httpd binds [::] when the container has IPv6, 0.0.0.0 otherwise.
        let elsewhere = ["it listens on 0.0.0.0:8001 only", "it listens on [::]:8001 only"]
        #expect(elsewhere.contains { observation.summary.hasSuffix($0) }, "\(observation.summary)")
    }

    @Test func thePublishedPortTheUsersUsePasses() async throws {
        let observation = try await observe("published", hostURL: "http://localhost:\(ports.toServed)/health")
        #expect(observation.outcome == .pass, "\(observation)")
        #expect(observation.summary.hasSuffix("; published 127.0.0.1:\(ports.toServed)->8000/tcp"))
    }

    @Test func aURLOnAnotherHostPortThanThePublishedOneIsPublishedElsewhere() async throws {
        let observation = try await observe("published", hostURL: "http://localhost:\(ports.toOther)")
        #expect(observation.cause == "published-elsewhere")
        #expect(
            observation.summary
                == "compose publishes 127.0.0.1:\(ports.toServed)->8000, the URL users use is :\(ports.toOther)")
    }

    @Test func aHostPortPublishedToAnotherContainerPortIsPublishedToOtherPort() async throws {
        let observation = try await observe("published-other", hostURL: "http://localhost:\(ports.toOther)")
        #expect(observation.cause == "published-to-other-port")
        #expect(observation.summary.contains("to container port 8001"))
        #expect(observation.evidence.contains("on port 8001: nothing listens"))
    }

    @Test func anUnpublishedPortIsNotPublished() async throws {
        let observation = try await observe("web", hostURL: "http://localhost:\(ports.toServed)")
        #expect(observation.cause == "not-published")
    }

    @Test func aStoppedOrMissingServiceIsAnError() async throws {
        let exited = try await observe("exited")
        #expect(exited.outcome == .error)
        #expect(exited.cause == "not-running")
        #expect(exited.summary.contains("is exited"))
        let never = try await observe("never")
        #expect(never.cause == "not-created")
    }

    @Test func aRemoteEngineIsRefused() async throws {
        let directory = try await DockerTestStack.shared.directory()
        var environment = DockerTestStack.environment
        environment["DOCKER_HOST"] = "tcp://10.0.0.1:2376"
        let context = ProbeContext(timeout: .seconds(5), environment: environment, workingDirectory: directory)
        let probe = try ListenersProbe(ProbeArguments(["service": .scalar("web"), "port": .scalar("8000")]))
        let observation = await probe.run(context)
        #expect(observation.cause == "remote-engine")
        #expect(context.compose.processesStarted == 0)
    }

    @Test func argumentsAreChecked() {
        #expect(throws: ProbeArgumentError.self) { try ListenersProbe(ProbeArguments(["service": .scalar("web")])) }
        #expect(throws: ProbeArgumentError.self) {
            try ListenersProbe(
                ProbeArguments(["service": .scalar("web"), "port": .scalar("8000"), "host_url": .scalar("localhost")]))
        }
    }

    @Test func theKernelsTablesAreReadInNetworkOrder() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
               1: 00000000:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
               2: 0200A8C0:1F40 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1
            """
        let tcp6 = """
              sl  local_address                         remote_address                        st
               0: 00000000000000000000000001000000:1F40 00000000000000000000000000000000:0000 0A
               1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A
               2: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A
            """
        let sockets = ListeningSocket.parse(procNetTCP: tcp) + ListeningSocket.parse(procNetTCP: tcp6)
        #expect(
            sockets.map(\.description) == ["127.0.0.1:8000", "0.0.0.0:8001", "[::1]:8000", "[::]:80", "127.0.0.1:81"])
        #expect(sockets.map(\.scope) == [.loopback, .every, .loopback, .every, .loopback])
    }
}
