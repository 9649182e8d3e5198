import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// Runs the built `diagnose` binary on a compose runbook, checking that the CLI hands probes a working adapter.
@Suite struct ComposeRunbookTests {
    static let runbook = """
        id: compose-down
        title: Is the worker up?
        start: worker
        steps:
          worker:
            title: The worker's container runs
            probe: compose-service
            with: {service: worker, project: dgtest-none}
            on: {pass: fine, fail: down, error: no-engine}
        diagnoses:
          fine: {severity: ok, title: Worker runs}
          down: {severity: critical, title: Worker is down}
          no-engine: {severity: warning, title: Docker is not reachable}
        """

    @Test func unreachableEngineLeadsToTheErrorBranch() async throws {
        let folder = NSTemporaryDirectory() + "dgtest-e2e-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.runbook.write(toFile: folder + "/compose-down.yml", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix:///nonexistent.sock"
        let result = await ProcessRunner.run(
            [diagnoseBinary, "run", folder + "/compose-down.yml", "--format", "json"], environment: environment,
            workingDirectory: folder, timeout: .seconds(30))
        #expect(result.exitStatus != nil)
        #expect(result.stdout.contains("\"cause\" : \"engine-unreachable\""))
        #expect(result.stdout.contains("\"id\" : \"no-engine\""))
    }
}
