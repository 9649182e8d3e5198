import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// Fix commands that change the stack are marked in every view, and carried in the JSON beside `fix`.
@Suite struct FixRenderingTests {
    static func run(_ fixes: [[Fix]]) -> RunReport {
        let runbooks = fixes.enumerated().map { index, fix in
            RunbookResult(
                id: "runbook-\(index)", title: "Runbook \(index)",
                diagnosis: Diagnosis(id: "worker-down", title: "Worker is down", severity: .critical, fix: fix),
                path: [],
                durationMs: 1)
        }
        return RunReport(startedAt: Date(timeIntervalSince1970: 1_795_874_610), durationMs: 2, runbooks: runbooks)
    }

    static let fixes: [Fix] = ["docker compose ps worker", Fix("docker compose up -d worker", changesStack: true)]

    @Test func textMarksTheCommandsThatChangeTheStack() {
        let text = TextRenderer().render(Self.run([Self.fixes]))
        #expect(text.contains("      $ docker compose ps worker\n"))
        #expect(text.contains("      ! docker compose up -d worker  (changes the stack)\n"))
    }

    @Test func theReportMarksThemInItsChecklist() {
        let report = HandoffReport(run: Self.run([Self.fixes]), metadata: ReportFixtures.metadata)
        let markdown = MarkdownRenderer().render(report, runbooks: [])
        #expect(markdown.contains("- [ ] `docker compose ps worker`\n"))
        #expect(markdown.contains("- [ ] `docker compose up -d worker` **(changes the stack)**\n"))
    }

    @Test func aFindingChangesTheStackWhenAnyRunbookSaysItsFixDoes() throws {
        let unmarked: [Fix] = ["docker compose up -d worker", "docker compose logs worker"]
        let findings = HandoffReport.findings(of: Self.run([unmarked, Self.fixes]))
        let finding = try #require(findings.first)
        #expect(finding.seenBy == ["runbook-0", "runbook-1"])
        #expect(
            finding.fix == [
                Fix("docker compose up -d worker", changesStack: true), "docker compose logs worker",
                "docker compose ps worker",
            ])
    }

    @Test func theJSONKeepsFixAsStringsAndListsTheChangingOnesBeside() throws {
        let run = Self.run([Self.fixes, ["docker compose ps worker"]])
        let json = run.json()
        #expect(json.contains("\"changesStack\" : [\n          \"docker compose up -d worker\"\n        ]"))
        #expect(json.components(separatedBy: "\"changesStack\"").count == 2)
        #expect(try RunReport.decode(Data(json.utf8)) == run)
        let report = HandoffReport(run: run, metadata: ReportFixtures.metadata)
        #expect(try HandoffReport.decode(Data(report.json().utf8)) == report)
    }

    @Test(needsJSONSchema) func runsAndReportsWithChangingFixesValidate() async throws {
        let run = Self.run([Self.fixes])
        #expect(try await validate([run.json()], against: "run.v1").status == 0)
        let report = HandoffReport(run: run, metadata: ReportFixtures.metadata)
        #expect(try await validate([report.json()], against: "report.v1").status == 0)
    }
}
