import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite(.serialized) struct ComposeConfigProbeTests {
    /// A project folder holding this compose file.
    func project(_ yaml: String) throws -> String {
        let directory = try temporaryDirectory("config")
        try yaml.write(toFile: directory + "/docker-compose.yml", atomically: true, encoding: .utf8)
        return directory
    }

    func observe(_ directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> (Observation, ComposeAdapter)
    {
        let context = ProbeContext(timeout: .seconds(20), environment: environment, workingDirectory: directory)
        let probe = try ComposeConfigProbe(ProbeArguments([:]))
        return (await probe.run(context), context.compose)
    }

    @Test func aMissingProjectFolderIsNamedNotMistakenForAMissingCLI() async throws {
        let (observation, adapter) = try await observe("/nonexistent/diagnose-project")
        #expect(observation.outcome == .error)
        #expect(observation.cause == "docker-error")
        #expect(
            (observation.summary + observation.evidence.joined()).contains(
                "/nonexistent/diagnose-project does not exist"))
        #expect(adapter.processesStarted == 0)
    }

    @Test func validFilePasses() async throws {
        let directory = try project(
            """
            version: "3.8"
            services:
              web:
                image: dgtest-busybox:latest
                environment:
                  GEMINI_API_KEY: AIza-very-secret-value
            """)
        let (observation, adapter) = try await observe(directory)
        #expect(observation.outcome == .pass)
        #expect(!observation.evidence.joined().contains("AIza-very-secret-value"))
        // The resolved YAML stays available to other probes, without another run.
        let config = try await adapter.config(of: adapter.project(.init()), timeout: .seconds(20)).get()
        #expect(config.result.stdout.contains("GEMINI_API_KEY"))
        #expect(adapter.processesStarted == 1)
    }

    /// Under the real compose v1 (`docker-compose`) and the real v2 (`docker compose`), chosen with DIAGNOSE_COMPOSE.
    @Test(arguments: [ComposeCLI.Flavor.standalone, .plugin])
    func unsetVariableFailsNamingEachVariable(_ flavor: ComposeCLI.Flavor) async throws {
        let directory = try project(
            """
            version: "3.8"
            services:
              web:
                image: "dgtest-busybox:${DGTEST_TAG}"
                environment:
                  REDIS_URL: ${DGTEST_REDIS_URL}
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["DGTEST_TAG"] = nil
        environment["DGTEST_REDIS_URL"] = nil
        environment["DIAGNOSE_COMPOSE"] = flavor == .plugin ? "v2" : "v1"
        let (observation, adapter) = try await observe(directory, environment: environment)
        #expect(try adapter.composeCLI.get().flavor == flavor)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "unset-variable")
        #expect(observation.evidence.contains("unset variable: DGTEST_TAG"))
        #expect(observation.evidence.contains("unset variable: DGTEST_REDIS_URL"))
        #expect(observation.evidence.contains { $0.contains("DGTEST_TAG") && $0.contains("variable is not set") })
    }

    /// The three ways the compose CLIs write the warning, as captured from compose 1.29.2 and 2.26.1.
    @Test func unsetVariablesAreReadInEveryCLIsWording() {
        let rest = " variable is not set. Defaulting to a blank string."
        let v1 = "The LAB_UNSET_VAR" + rest
        let v2Terminal = #"WARN[0000] The "LAB_UNSET_VAR""# + rest
        let v2Logfmt = #"time="2026-12-02T06:30:00Z" level=warning msg="The \"LAB_UNSET_VAR\""# + rest + #"""#
        for line in [v1, v2Terminal, v2Logfmt] {
            #expect(ComposeConfigProbe.unsetVariables(in: line) == ["LAB_UNSET_VAR"], "\(line)")
        }
    }

    @Test func variableFromTheProjectsEnvFileIsSet() async throws {
        let directory = try project(
            """
            version: "3.8"
            services:
              web:
                image: "dgtest-busybox:${DGTEST_TAG}"
            """)
        try "DGTEST_TAG=latest\n".write(toFile: directory + "/.env", atomically: true, encoding: .utf8)
        let (observation, _) = try await observe(directory)
        #expect(observation.outcome == .pass)
    }

    /// Under the real v1 (`Unsupported config option for services.backend: 'enviroment'`) and the real v2
    /// (`services.backend additional properties 'enviroment' not allowed`).
    @Test(arguments: [ComposeCLI.Flavor.standalone, .plugin])
    func misspelledKeyIsInvalid(_ flavor: ComposeCLI.Flavor) async throws {
        let directory = try project(
            """
            version: "3.8"
            services:
              backend:
                image: dgtest-busybox:latest
                enviroment:
                  A: b
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["DIAGNOSE_COMPOSE"] = flavor == .plugin ? "v2" : "v1"
        let (observation, adapter) = try await observe(directory, environment: environment)
        #expect(try adapter.composeCLI.get().flavor == flavor)
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "invalid")
        #expect(observation.evidence.contains { $0.contains("services.backend") && $0.contains("enviroment") })
    }

    @Test func missingComposeIsAnErrorNotAFailure() async throws {
        let directory = try project("services: {}\n")
        let (observation, _) = try await observe(directory, environment: ["PATH": "/nonexistent", "HOME": directory])
        #expect(observation.outcome == .error)
        #expect(observation.cause == "docker-missing")
    }

    /// What the real v2 cannot show: a fake `docker-compose` CLI plugin in DOCKER_CONFIG records the exact argv it is
    /// run with (directly, in compose v2's standalone mode, not through the docker CLI), so the project's options are
    /// proved to reach it, and the user's plugin folder to come before the system's as the docker CLI orders them.
    @Test func composePluginIsPreferredAndGetsTheProjectOptions() async throws {
        let directory = try project("services: {}\n")
        let config = try temporaryDirectory("docker-config")
        try FileManager.default.createDirectory(atPath: config + "/cli-plugins", withIntermediateDirectories: true)
        let plugin = config + "/cli-plugins/docker-compose"
        try """
        #!/bin/sh
        if [ "$1" = docker-cli-plugin-metadata ]; then
          echo '{"SchemaVersion":"0.1.0","Vendor":"dgtest","Version":"v2.99.0","ShortDescription":"fake compose"}'
          exit 0
        fi
        printf '%s\\n' "$@" > "\(config)/argv"
        echo 'WARN[0000] The "DGTEST_SECRET_TOKEN" variable is not set. Defaulting to a blank string.' >&2
        echo 'services: {}'
        """.write(toFile: plugin, atomically: true, encoding: .utf8)
        chmod(plugin, 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = config
        environment["COMPOSE_PROJECT_NAME"] = "_Dg Test"

        let (observation, adapter) = try await observe(directory, environment: environment)
        #expect(try adapter.composeCLI.get().flavor == .plugin)
        #expect(observation.cause == "unset-variable")
        #expect(observation.evidence.contains("unset variable: DGTEST_SECRET_TOKEN"))
        let argv = try String(contentsOfFile: config + "/argv", encoding: .utf8).split(separator: "\n")
        let resolved = URL(fileURLWithPath: directory).standardizedFileURL.path
        #expect(
            argv == [
                "-f", "\(resolved)/docker-compose.yml", "--project-directory", "\(resolved)", "-p", "dgtest", "config",
            ])
        #expect(try adapter.composeCLI.get().prefix == [plugin])
    }
}
