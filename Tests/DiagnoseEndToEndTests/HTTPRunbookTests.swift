import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `diagnose` on a runbook of `http` steps against the probe tests' fixture server.
@Suite struct HTTPRunbookTests {
    struct Report: Decodable {
        struct Runbook: Decodable {
            struct Diagnosis: Decodable { let id: String }
            struct Record: Decodable {
                let step: String
                let outcome: String
                let cause: String?
                let evidence: [String]
            }
            let diagnosis: Diagnosis
            let path: [Record]
        }
        let runbooks: [Runbook]
    }

    /// The folder of the built products, where `diagnose` sits beside the test bundle.
    static var products: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).deletingLastPathComponent()
    }

    @Test func aRunbookOfHTTPStepsReachesItsDiagnosisWithoutShowingSecrets() throws {
        let diagnose = Self.products.appendingPathComponent("diagnose")
        try #require(FileManager.default.isExecutableFile(atPath: diagnose.path))

        let server = try FixtureHTTPServer()
        defer { server.stop() }
        let port = server.port

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let runbook = folder.appendingPathComponent("backend.yml")
        try """
        id: backend
        title: Backend health
        inputs:
          base: http://admin:s3cret-pw@127.0.0.1:\(port)
        start: health
        steps:
          health:
            title: The health check comes up
            probe: http
            timeout: 3s
            with:
              url: "{{ base }}/healthy-after/2"
              expect_status: [200, 204]
              retries: 5
              interval: 100ms
              headers: { Authorization: "Bearer tok-5e6f7a", X-Trace: "on" }
            on: { pass: redis, fail: backend-down }
          redis:
            title: The backend reaches Redis
            probe: http
            with:
              url: "{{ base }}/unhealthy"
              body_contains: ok
            on: { pass: healthy, fail: redis-down }
        diagnoses:
          backend-down: { severity: critical, title: The backend is down }
          healthy: { severity: ok, title: All healthy }
          redis-down: { severity: critical, title: The backend cannot reach Redis }
        """.write(to: runbook, atomically: true, encoding: .utf8)

        let run = Process()
        run.executableURL = diagnose
        run.arguments = ["run", runbook.path, "--format", "json"]
        run.currentDirectoryURL = folder
        let output = Pipe()
        run.standardOutput = output
        try run.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()

        let text = String(decoding: data, as: UTF8.self)
        #expect(run.terminationStatus == 2)
        #expect(!text.contains("s3cret-pw"))
        #expect(!text.contains("tok-5e6f7a"))
        let report = try JSONDecoder().decode(Report.self, from: data)
        let result = try #require(report.runbooks.first)
        #expect(result.diagnosis.id == "redis-down")
        #expect(result.path.map(\.step) == ["health", "redis"])
        #expect(result.path.map(\.outcome) == ["pass", "fail"])
        #expect(result.path[0].evidence.contains { $0.hasPrefix("passed on try 2 of 5 ") })
        #expect(result.path[1].cause == "status")
        #expect(result.path[1].evidence.contains(#"body (32 bytes): {"detail":"Redis not reachable"}"#))
    }
}
