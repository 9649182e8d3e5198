import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// The Markdown of each scenario against its golden file. Goldens are re-recorded only on purpose:
/// `DIAGNOSE_RECORD_GOLDENS=1 swift test --filter MarkdownGoldenTests`, then review the diff.
@Suite struct MarkdownGoldenTests {
    static let recording = ProcessInfo.processInfo.environment["DIAGNOSE_RECORD_GOLDENS"] == "1"

    @Test(arguments: ReportFixtures.scenarios)
    func markdownMatchesTheGolden(_ scenario: String) throws {
        let report = HandoffReport(run: try ReportFixtures.run(scenario), metadata: ReportFixtures.metadata)
        try check(report, golden: scenario)
    }

    /// The next shift's report: Redis was fixed, the frontend's BACKEND_URL is now wrong.
    @Test func aReportSinceThePreviousShiftMatchesTheGolden() throws {
        let previous = HandoffReport(run: try ReportFixtures.run("redis-down"), metadata: ReportFixtures.metadata)
        var metadata = ReportFixtures.metadata
        metadata.command = "diagnose report --all --since handoff.json --output handoff-2.md"
        let report = HandoffReport(
            run: try ReportFixtures.run("frontend-backend-url"), metadata: metadata, previous: previous,
            previousPath: "handoff.json")
        try check(report, golden: "frontend-backend-url.since-redis-down")
    }

    func check(_ report: HandoffReport, golden name: String) throws {
        let markdown = MarkdownRenderer().render(report, runbooks: try ReportFixtures.runbooks())
        let golden = ReportFixtures.folder.appendingPathComponent("\(name).md")
        if Self.recording {
            try markdown.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(markdown == expected, "\(name).md differs; re-record with DIAGNOSE_RECORD_GOLDENS=1 if intended")
    }
}
