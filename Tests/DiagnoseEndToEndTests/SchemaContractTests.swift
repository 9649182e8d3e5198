import DiagnosePlatform
import Foundation
import Testing

/// Runs and reports made by the binary validate against the published JSON Schemas (docs/schemas/), read by
/// python3-jsonschema through docs/schemas/validate.py.
@Suite struct SchemaContractTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/schemas")

    func validate(_ files: [URL], against schema: String) async -> ProcessResult {
        await ProcessRunner.run(
            [
                "python3", Self.schemas.appendingPathComponent("validate.py").path,
                Self.schemas.appendingPathComponent("\(schema).schema.json").path,
            ] + files.map(\.path),
            timeout: .seconds(60), mergingStandardError: true)
    }

    @Test func theBinarysRunsAndReportsValidate() async throws {
        let module = await ProcessRunner.run(
            ["python3", "-c", "import jsonschema"], timeout: .seconds(60))
        try #require(
            module.exitStatus == 0,
            "python3's jsonschema is not installed; scripts/setup.sh installs it (apt-get install python3-jsonschema)")
        let folder = try workspace([
            "runbooks/green.yml": commandRunbook("true"),
            "runbooks/red.yml": commandRunbook("echo boom; false"),
            "runbooks/slow.yml": commandRunbook("sleep 5", timeout: "100ms").replacingOccurrences(
                of: "fail: failed", with: "fail: failed, error: failed"),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(await diagnose(["--all", "--format", "json", "--output", "run.json"], in: folder).status == 2)
        #expect(
            await diagnose(["slow", "--deadline", "50ms", "--format", "json", "--output", "stopped.json"], in: folder)
                .status == 3)
        #expect(await diagnose(["report", "--output", "first.md"], in: folder).status == 2)
        #expect(
            await diagnose(["report", "green", "--since", "first.json", "--output", "second.md"], in: folder).status
                == 0)
        let second = try String(contentsOf: folder.appendingPathComponent("second.json"), encoding: .utf8)
        #expect(second.contains("\"notRechecked\""))

        let runs = await validate(
            ["run.json", "stopped.json"].map(folder.appendingPathComponent), against: "run.v1")
        #expect(runs.exitStatus == 0, "\(runs.stdout)")
        let reports = await validate(
            ["first.json", "second.json"].map(folder.appendingPathComponent), against: "report.v1")
        #expect(reports.exitStatus == 0, "\(reports.stdout)")
    }
}
