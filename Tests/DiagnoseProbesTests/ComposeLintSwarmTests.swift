import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// The `swarm` check, against the docker CLI's own verdict: `docker stack config` (client-side, no Swarm needed)
/// refuses exactly the files the check calls refused.
@Suite struct ComposeLintSwarmTests {
    func observe(_ compose: String, env: String? = nil, environment: [String: String] = [:]) async throws
        -> Observation
    {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try compose.write(to: folder.appendingPathComponent("docker-compose.yml"), atomically: true, encoding: .utf8)
        if let env { try env.write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8) }
        let probe = try ComposeLintProbe(ProbeArguments(["check": .scalar("swarm")]))
        return await probe.run(ProbeContext(environment: environment, workingDirectory: folder.path))
    }

    /// Whether the real docker CLI's stack loader takes the file.
    func dockerStackAccepts(_ compose: String) async throws -> Bool? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        guard let docker = folders.map({ $0 + "/docker" }).first(where: FileManager.default.isExecutableFile)
        else { return nil }
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("stack.yml").path
        try compose.write(toFile: path, atomically: true, encoding: .utf8)
        let result = await ProcessRunner.run(
            [docker, "stack", "config", "-c", path], environment: ["PATH": "/usr/bin:/bin", "HOME": folder.path],
            timeout: .seconds(20))
        return result.exitStatus == 0
    }

    static let service = "services:\n  a:\n    image: busybox\n"

    static let cases: [(key: String, refused: Bool)] = [
        ("mem_limit: 64m", true), ("cpus: 0.5", true), ("extends: {service: b}", true),
        ("profiles: [debug]", true), ("pull_policy: always", true), ("volumes_from: [b]", true),
        ("depends_on: {b: {condition: service_healthy}}", true),
        ("depends_on: [b]", false), ("build: .", false), ("restart: always", false), ("container_name: a1", false),
        ("privileged: true", false), ("ports: ['127.0.0.1:8080:80']", false), ("cap_add: [NET_ADMIN]", false),
        ("deploy: {replicas: 2}", false),
    ]

    @Test(arguments: cases.indices)
    func refusesWhatDockerStackRefuses(_ index: Int) async throws {
        let (key, refused) = Self.cases[index]
        let file = Self.service + "    \(key)\n  b:\n    image: busybox\n"
        let observation = try await observe(file)
        #expect((observation.cause == "swarm-refused") == refused, "\(key): \(observation.summary)")
        guard let accepted = try await dockerStackAccepts(file) else {
            Issue.record("the docker CLI is needed")
            return
        }
        #expect(accepted == !refused, "docker stack config and the check disagree on \(key)")
    }

    @Test func aTopLevelNameIsRefusedLikeTheCLIDoes() async throws {
        let file = "name: shop\n" + Self.service
        #expect(try await observe(file).cause == "swarm-refused")
        #expect(try await dockerStackAccepts(file) == false)
    }

    @Test func eachIgnoredSettingIsNamedWithWhatSwarmDoesInstead() async throws {
        let file =
            Self.service + "    build: .\n    restart: unless-stopped\n    container_name: a1\n"
            + "    ports: ['127.0.0.1:8050:8000', {target: 9000, published: 9000, mode: host}]\n    depends_on: [b]\n"
            + "  b:\n    image: busybox\n"
        let observation = try await observe(file)
        #expect(observation.cause == "swarm-differs")
        let evidence = observation.evidence.joined(separator: "\n")
        #expect(evidence.contains("a: build is ignored: Swarm never builds"))
        #expect(evidence.contains("a: restart is ignored"))
        #expect(evidence.contains("a: container_name is ignored"))
        #expect(evidence.contains("a: depends_on is ignored: Swarm starts services in any order"))
        #expect(evidence.contains("bound to 127.0.0.1 here, but Swarm ignores the address"))
        // The host-mode port is neither routed through the mesh nor bound to an address.
        #expect(observation.evidence.filter { $0.contains("routing mesh") }.count == 1)
    }

    @Test func aVariableSetOnlyInDotEnvIsFlaggedUnlessExported() async throws {
        let file = Self.service + "    environment:\n      - KEY=${API_KEY}\n      - MODEL=${MODEL:-small}\n"
        let flagged = try await observe(file, env: "API_KEY=abc\nMODEL=large\n")
        #expect(flagged.cause == "swarm-differs")
        #expect(flagged.evidence.contains { $0.contains("${API_KEY}, ${MODEL}, set only in .env") })
        #expect(!flagged.evidence.joined().contains("abc"))
        let exported = try await observe(
            file, env: "API_KEY=abc\nMODEL=large\n", environment: ["API_KEY": "x", "MODEL": "y"])
        #expect(exported.outcome == .pass)
        // Compose interpolates values only: a ${VAR} in a comment is no use of it.
        let commented = try await observe(
            "# the key comes from ${API_KEY} in the deploying shell\n" + Self.service, env: "API_KEY=abc\n")
        #expect(commented.outcome == .pass)
    }

    @Test func aFileWrittenForSwarmPasses() async throws {
        let file =
            Self.service + "    ports: [{target: 80, published: 8080, mode: host}]\n"
            + "    deploy: {replicas: 2, endpoint_mode: dnsrr, restart_policy: {condition: on-failure}}\n"
            + "x-common: {}\n"
        let observation = try await observe(file)
        #expect(observation.outcome == .pass, "\(observation.evidence)")
        #expect(try await dockerStackAccepts(file) == true)
    }
}
