import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// Network probes given `in: SERVICE` connect from the service container's network namespace and resolve
/// names the way the compose network does.
@Suite(.serialized) struct InContainerNetworkTests {
    func observe(_ kind: ProbeKind, _ arguments: [String: ArgumentValue]) async throws -> Observation {
        let context = try await DockerTestStack.shared.context(timeout: .seconds(5))
        return try await kind.make(ProbeArguments(arguments)).run(context)
    }

    @Test func aServiceNameResolvesAndConnectsFromInsideAnotherContainer() async throws {
        let tcp = try await observe(.tcp, ["in": .scalar("plain"), "host": .scalar("web"), "port": .scalar("8000")])
        #expect(tcp.outcome == .pass, "\(tcp)")
        #expect(tcp.evidence.first == "from inside service 'plain' (\(DockerTestStack.projectName)_plain_1)")
        let http = try await observe(
            .http, ["in": .scalar("plain"), "url": .scalar("http://web:8000/health"), "body_contains": .scalar("ok")])
        #expect(http.outcome == .pass, "\(http)")
    }

    @Test func localhostInsideAContainerIsTheContainerItself() async throws {
        // The frontend's classic mistake: BACKEND_URL=http://localhost:8000 reaches the frontend, not the backend.
        let fromPlain = try await observe(
            .http, ["in": .scalar("plain"), "url": .scalar("http://localhost:8000/health")])
        #expect(fromPlain.outcome == .fail)
        // Nothing listens on the container's own port 8000: refused over IPv4, or "Cannot assign requested
        // address" when curl tries ::1 first (containers have IPv6 loopback disabled), as the lab's frontend shows.
        #expect(["connection-refused", "unreachable"].contains(fromPlain.cause ?? ""), "\(fromPlain)")
        let fromWeb = try await observe(.http, ["in": .scalar("web"), "url": .scalar("http://localhost:8000/health")])
        #expect(fromWeb.outcome == .pass, "\(fromWeb)")
    }

    @Test func aServiceWithoutARunningContainerDoesNotResolveInside() async throws {
        let exited = try await observe(
            .tcp, ["in": .scalar("plain"), "host": .scalar("exited"), "port": .scalar("8000")])
        #expect(exited.cause == "dns-failure")
        let never = try await observe(.http, ["in": .scalar("plain"), "url": .scalar("http://never:8000/")])
        #expect(never.cause == "dns-failure")
        let elsewhere = try await observe(
            .tcp, ["in": .scalar("plain"), "host": .scalar("example.invalid"), "port": .scalar("80")])
        #expect(elsewhere.cause == "dns-failure")
    }

    @Test func theRedisProbeReadsTheURLFromTheContainersEnvironment() async throws {
        // `healthy` has REDIS_URL=redis://:s3cr3t-pass@redis:6379/0 and there is no redis service.
        let observation = try await observe(.redis, ["in": .scalar("healthy"), "url_env": .scalar("REDIS_URL")])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "dns-failure")
        #expect(observation.evidence.contains("url from REDIS_URL of \(DockerTestStack.projectName)_healthy_1"))
        #expect(!(observation.summary + observation.evidence.joined()).contains("s3cr3t-pass"))
        let unset = try await observe(.redis, ["in": .scalar("plain"), "url_env": .scalar("REDIS_URL")])
        #expect(unset.cause == "unset")
    }

    @Test func aStoppedVantageIsAnError() async throws {
        let observation = try await observe(
            .tcp, ["in": .scalar("exited"), "host": .scalar("web"), "port": .scalar("8000")])
        #expect(observation.outcome == .error)
        #expect(observation.cause == "container-not-running")
    }

    @Test func projectArgumentsNeedIn() {
        #expect(throws: ProbeArgumentError.self) {
            try TCPProbe(ProbeArguments(["host": .scalar("x"), "port": .scalar("1"), "project": .scalar("p")]))
        }
        #expect(throws: ProbeArgumentError.self) { try RedisProbe(ProbeArguments(["url_env": .scalar("REDIS_URL")])) }
    }
}
