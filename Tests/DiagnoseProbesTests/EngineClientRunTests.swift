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

    @Test func aRunStartsTheDockerCLIOnlyForComposeConfig() async throws {
        let directory = try await DockerTestStack.shared.directory()
        let folder = try temporaryDirectory("engine-count")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = folder + "/argv.log"
        let realDocker = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/docker" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        let wrapper = folder + "/bin/docker"
        try FileManager.default.createDirectory(atPath: folder + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"$*\" >> '\(log)'\nexec '\(realDocker)' \"$@\"\n"
            .write(toFile: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        try Self.runbook.write(toFile: folder + "/counted.yml", atomically: true, encoding: .utf8)
        var environment = DockerTestStack.environment
        environment["PATH"] = folder + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["DIAGNOSE_COMPOSE"] = "v2"
        let run = await ProcessRunner.run(
            [Self.binary, "run", folder + "/counted.yml", "--format", "json"], environment: environment,
            workingDirectory: directory, timeout: hangGuard)
        #expect(run.exitStatus != nil)
        #expect(run.stdout.contains("\"probe\" : \"logs\""))
        let invocations = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n") ?? []
        #expect(invocations.count == 1)
        #expect(invocations.allSatisfy { $0.hasPrefix("compose") && $0.contains("config") })
        for word in ["ps", "inspect", "logs", "exec"] {
            #expect(!invocations.contains { $0.split(separator: " ").first.map(String.init) == word })
        }
    }
}
