import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// The built binary on the test stack: the docker CLI is started only for `compose config`.
@Suite(.serialized) struct EngineClientRunTests {
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/diagnose").path
    }()

    static let runbook = """
        id: engine-counted
        title: The stack through the engine
        start: config
        steps:
          config:
            title: The configuration resolves
            probe: compose-config
            on: {pass: plain, fail: plain, error: plain}
          plain:
            title: plain runs
            probe: compose-service
            with: {service: plain}
            on: {pass: logs, fail: logs, error: logs}
          logs:
            title: crashing logged its traceback
            probe: logs
            with: {service: crashing, pattern: after the traceback}
            on: {pass: exec, fail: exec, error: exec}
          exec:
            title: a command inside plain
            probe: command
            with: {in: plain, argv: [sh, -c, "exit 0"]}
            on: {pass: fine, fail: fine, error: fine}
        diagnoses:
          fine: {severity: ok, title: Read}
        """

    @Test func aRunStartsNoDockerCLIAndComposeOnlyForConfig() async throws {
        let directory = try await DockerTestStack.shared.directory()
        let folder = try temporaryDirectory("engine-count")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A docker on PATH and a compose plugin in DOCKER_CONFIG that log each start and run the real ones.
        func logging(_ real: String, as path: String, into log: String) throws {
            try "#!/bin/sh\necho \"$*\" >> '\(log)'\nexec '\(real)' \"$@\"\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let realDocker = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/docker" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        var environment = DockerTestStack.environment
        environment["DOCKER_CONFIG"] = nil
        let realPlugin = try #require(
            ComposeCLI.pluginFolders(environment: environment).map { $0 + "/docker-compose" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        for sub in ["/bin", "/config/cli-plugins"] {
            try FileManager.default.createDirectory(atPath: folder + sub, withIntermediateDirectories: true)
        }
        try logging(realDocker, as: folder + "/bin/docker", into: folder + "/docker.log")
        try logging(realPlugin, as: folder + "/config/cli-plugins/docker-compose", into: folder + "/compose.log")
        try Self.runbook.write(toFile: folder + "/counted.yml", atomically: true, encoding: .utf8)
        environment["PATH"] = folder + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["DOCKER_CONFIG"] = folder + "/config"
        environment["DIAGNOSE_COMPOSE"] = "v2"
        let run = await ProcessRunner.run(
            [Self.binary, "run", folder + "/counted.yml", "--format", "json"], environment: environment,
            workingDirectory: directory, timeout: hangGuard)
        #expect(run.exitStatus != nil)
        #expect(run.stdout.contains("\"probe\" : \"logs\""))
        func invocations(_ name: String) -> [Substring] {
            (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?.split(separator: "\n") ?? []
        }
        // No docker CLI at all: state and logs come from the Engine API, and compose's plugin is run directly.
        #expect(invocations("docker.log").isEmpty, "\(invocations("docker.log"))")
        #expect(invocations("compose.log").count == 1)
        #expect(invocations("compose.log").allSatisfy { $0.hasSuffix(" config") && $0.hasPrefix("-f ") })
    }
}
