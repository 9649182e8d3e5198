import DiagnoseReport
import DiagnoseTestSupport
import Foundation
import Testing

/// The published JSON Schemas (docs/schemas/) against the golden runs and reports made from them.
@Suite struct SchemaTests {
    @Test(needsJSONSchema) func theGoldenRunsValidateAgainstRunV1() async throws {
        let runs = try ReportFixtures.scenarios.map { try ReportFixtures.run($0).json() }
        let verdict = try await validate(runs, against: "run.v1")
        #expect(verdict.status == 0, "\(verdict)")
    }

    @Test(needsJSONSchema) func reportsWithAndWithoutChangesValidateAgainstReportV1() async throws {
        let before = HandoffReport(run: try ReportFixtures.run("redis-down"), metadata: ReportFixtures.metadata)
        let after = HandoffReport(
            run: try ReportFixtures.run("frontend-backend-url"), metadata: ReportFixtures.metadata, previous: before,
            previousPath: "handoff.json")
        #expect(after.changes != nil)
        let verdict = try await validate([before.json(), after.json()], against: "report.v1")
        #expect(verdict.status == 0, "\(verdict)")
    }

    @Test(needsJSONSchema) func theSchemasRefuseWhatTheContractsDoNotSay() async throws {
        // A run is not a report, a report is not a run, and a key the contract does not name is refused.
        let run = try ReportFixtures.run("healthy")
        let report = HandoffReport(run: run, metadata: ReportFixtures.metadata)
        #expect(try await validate([run.json()], against: "report.v1").status == 1)
        #expect(try await validate([report.json()], against: "run.v1").status == 1)
        let extra = run.json().replacingOccurrences(of: "\"durationMs\"", with: "\"surprise\": 1, \"durationMs\"")
        let verdict = try await validate([extra], against: "run.v1")
        #expect(verdict.status == 1)
        #expect(verdict.output.contains("'surprise' was unexpected"), "\(verdict)")
    }
}
