import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation

/// The lab-shaped scenarios under Fixtures/report: a run (`NAME.run.json`) and its golden Markdown (`NAME.md`).
enum ReportFixtures {
    static let folder = fixtures.appendingPathComponent("report")

    static let scenarios = ["healthy", "redis-down", "frontend-backend-url"]

    /// Fixed metadata, so that the goldens do not depend on the machine or the clock.
    static let metadata = HandoffReport.Metadata(
        generatedAt: Date(timeIntervalSince1970: 1_795_874_610), host: "oncall-01", user: "alice",
        projectDirectory: "/srv/lab", composeProject: "lab", command: "diagnose report --all --output handoff.md")

    static func run(_ scenario: String) throws -> RunReport {
        try RunReport.decode(Data(contentsOf: folder.appendingPathComponent("\(scenario).run.json")))
    }

    /// The shipped runbooks, read where they live (`runbooks/` at the package's root): the runs were recorded with
    /// them, so their flowcharts are those of the goldens. No copy of them is kept here to drift.
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks")

    static func runbooks() throws -> [Runbook] {
        let catalog = RunbookCatalog.load([shipped.path])
        guard catalog.isValid else {
            throw TestFailure(
                (catalog.findings.map(\.description) + catalog.unreadable.map(\.description)).joined(separator: "\n"))
        }
        return catalog.runbooks
    }
}
