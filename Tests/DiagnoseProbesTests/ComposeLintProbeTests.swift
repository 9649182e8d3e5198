import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite struct ComposeLintProbeTests {
    static let healthy = """
        services:
          redis:
            image: redis
            deploy: { resources: { limits: { cpus: "0.5", memory: 256M }, reservations: { cpus: "0.1", memory: 128M } } }
          backend:
            build: ./backend
            environment:
              - REDIS_URL=redis://redis:6379/0
              - GEMINI_API_KEY=${GEMINI_API_KEY}
            ports: ["8050:8000"]
            healthcheck:
              test: ["CMD-SHELL", "python -c 'import urllib.request'"]
              interval: 30s
            deploy: { resources: { limits: { cpus: "1.0", memory: 512M }, reservations: { cpus: "0.25", memory: 256M } } }
          frontend:
            build: ./frontend
            environment:
              BACKEND_URL: ${FRONTEND_BACKEND_URL:-http://backend:8000}
            depends_on:
              backend:
                condition: service_healthy
            deploy: { resources: { limits: { cpus: "0.5", memory: 256M }, reservations: { cpus: "0.1", memory: 128M } } }
        """

    func observe(_ compose: String, env: String = "", _ arguments: [String: ArgumentValue]) async throws -> Observation
    {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try compose.write(to: folder.appendingPathComponent("docker-compose.yml"), atomically: true, encoding: .utf8)
        try env.write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let probe = try ComposeLintProbe(ProbeArguments(arguments))
        return await probe.run(ProbeContext(environment: [:], workingDirectory: folder.path))
    }

    static let url: [String: ArgumentValue] = [
        "check": .scalar("service-url"), "service": .scalar("frontend"), "variable": .scalar("BACKEND_URL"),
        "target": .scalar("backend"), "port": .scalar("8000"),
    ]

    @Test func theHealthyFilePassesEveryCheck() async throws {
        #expect(try await observe(Self.healthy, ["check": .scalar("resource-limits")]).outcome == .pass)
        #expect(
            try await observe(Self.healthy, ["check": .scalar("healthcheck"), "service": .scalar("backend")]).outcome
                == .pass)
        #expect(
            try await observe(
                Self.healthy,
                ["check": .scalar("depends-healthy"), "service": .scalar("frontend"), "target": .scalar("backend")]
            ).outcome == .pass)
        #expect(try await observe(Self.healthy, ["check": .scalar("hardcoded-secrets")]).outcome == .pass)
        #expect(try await observe(Self.healthy, Self.url).outcome == .pass)
    }

    @Test func missingLimitsNameTheService() async throws {
        let file = Self.healthy.replacingOccurrences(
            of:
                "    image: redis\n    deploy: { resources: { limits: { cpus: \"0.5\", memory: 256M }, reservations: { cpus: \"0.1\", memory: 128M } } }\n",
            with: "    image: redis\n")
        let observation = try await observe(file, ["check": .scalar("resource-limits")])
        #expect(observation.cause == "missing-limits")
        #expect(observation.summary.hasPrefix("redis has no resource limits"))
    }

    @Test func healthcheckAndDependencyProblems() async throws {
        let noCheck = try await observe(Self.healthy, ["check": .scalar("healthcheck"), "service": .scalar("redis")])
        #expect(noCheck.cause == "missing-healthcheck")
        let started = Self.healthy.replacingOccurrences(
            of: "      backend:\n        condition: service_healthy", with: "      - backend")
        #expect(
            try await observe(
                started,
                ["check": .scalar("depends-healthy"), "service": .scalar("frontend"), "target": .scalar("backend")]
            ).cause == "not-healthy-dependency")
    }

    @Test func aHardcodedSecretIsFoundButNeverShown() async throws {
        let file = Self.healthy.replacingOccurrences(
            of: "GEMINI_API_KEY=${GEMINI_API_KEY}", with: "GEMINI_API_KEY=AIza-planted-secret-42")
        let observation = try await observe(file, ["check": .scalar("hardcoded-secrets")])
        #expect(observation.cause == "hardcoded-secret")
        #expect(observation.evidence == ["backend: GEMINI_API_KEY is set to a literal value in the compose file"])
        #expect(!(observation.summary + observation.evidence.joined()).contains("planted"))
    }

    @Test(arguments: [
        ("http://localhost:8000", "localhost"),
        ("http://127.0.0.1:8000", "localhost"),
        ("http://backend:8050", "host-port"),
        ("http://backend:9999", "wrong-port"),
        ("http://api:8000", "unknown-host"),
        ("not a url", "unknown-host"),
    ])
    func backendURLMistakesAreNamed(_ value: String, _ cause: String) async throws {
        let observation = try await observe(Self.healthy, env: "FRONTEND_BACKEND_URL=\(value)\n", Self.url)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == cause)
    }

    @Test func composeInterpolationFormsAreUnderstood() {
        let lookup: (String) -> String? = { ["SET": "http://backend:8000", "EMPTY": ""][$0] }
        #expect(VariableExpansion.composeInterpolated("${SET}", lookup: lookup) == "http://backend:8000")
        #expect(VariableExpansion.composeInterpolated("$SET/x", lookup: lookup) == "http://backend:8000/x")
        #expect(VariableExpansion.composeInterpolated("${EMPTY:-d}", lookup: lookup) == "d")
        #expect(VariableExpansion.composeInterpolated("${EMPTY-d}", lookup: lookup) == "")
        #expect(VariableExpansion.composeInterpolated("${UNSET-d}", lookup: lookup) == "d")
        #expect(VariableExpansion.composeInterpolated("${SET:?must be set}", lookup: lookup) == "http://backend:8000")
        #expect(VariableExpansion.composeInterpolated("$$HOME", lookup: lookup) == "$HOME")
    }

    @Test func aURLWithALiteralPasswordIsAHardcodedSecret() async throws {
        let file = Self.healthy.replacingOccurrences(
            of: "REDIS_URL=redis://redis:6379/0", with: "REDIS_URL=redis://:pw-planted-77@redis:6379/0")
        let observation = try await observe(file, ["check": .scalar("hardcoded-secrets")])
        #expect(observation.cause == "hardcoded-secret")
        #expect(!(observation.summary + observation.evidence.joined()).contains("pw-planted-77"))
    }

    @Test func envFileVariablesMustBeSet() async throws {
        let arguments: [String: ArgumentValue] = [
            "check": .scalar("env-file"), "variables": .list([.scalar("GEMINI_API_KEY"), .scalar("APP_ENV")]),
        ]
        let missing = try await observe(Self.healthy, env: "GEMINI_API_KEY=secret-value-1\nAPP_ENV=\n", arguments)
        #expect(missing.cause == "unset-variable")
        #expect(missing.summary.contains("APP_ENV"))
        #expect(!(missing.summary + missing.evidence.joined()).contains("secret-value-1"))
        #expect(try await observe(Self.healthy, env: "GEMINI_API_KEY=k\nAPP_ENV=docker\n", arguments).outcome == .pass)
    }

    @Test func anUnreadableFileIsAnError() async throws {
        let probe = try ComposeLintProbe(
            ProbeArguments(["check": .scalar("resource-limits"), "file": .scalar("/nonexistent/compose.yml")]))
        #expect(await probe.run(ProbeContext(environment: [:], workingDirectory: "/")).cause == "unreadable")
    }

    /// The real stack's files, kept outside the repository at ../shared (or $DIAGNOSE_SHARED).
    static let fixtureStack: URL = {
        let shared =
            ProcessInfo.processInfo.environment["DIAGNOSE_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../shared")
            .standardized
        return shared.appendingPathComponent("fixtures/pyspark-intelligence-platform")
    }()

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: fixtureStack.path),
            "the real stack's files are absent: expected ../shared/fixtures/pyspark-intelligence-platform next to the repository, or set DIAGNOSE_SHARED"
        ))
    func theFixtureStackPassesItsOwnRules() async throws {
        let folder = Self.fixtureStack
        let context = ProbeContext(environment: [:], workingDirectory: folder.path)
        #expect(
            try await ComposeLintProbe(ProbeArguments(["check": .scalar("resource-limits")])).run(context).outcome
                == .pass)
        #expect(try await ComposeLintProbe(ProbeArguments(Self.url)).run(context).outcome == .pass)
    }
}
