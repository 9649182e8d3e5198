import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct MarkdownRendererTests {
    /// A report whose one finding carries the given evidence and fix.
    static func report(evidence: [String], fix: [String] = [], title: String = "Broken", stopped: String? = nil)
        -> HandoffReport
    {
        var record = StepRecord(
            step: Step(id: "logs", title: "Logs", probe: "command", next: [:]),
            observation: Observation(
                outcome: .fail, cause: "output-mismatch", summary: "a traceback", evidence: evidence),
            durationMs: 1)
        record.shared = false
        let result = RunbookResult(
            id: "app", title: "App",
            diagnosis: Diagnosis(id: "broken", title: title, severity: .critical, fix: fix.map { Fix($0) }),
            path: [record], durationMs: 1)
        let run = RunReport(
            startedAt: Date(timeIntervalSince1970: 0), durationMs: 1, stopped: stopped, runbooks: [result])
        return HandoffReport(run: run, metadata: ReportFixtures.metadata)
    }

    /// The lines of each fenced block: (opening fence, content lines), parsed as CommonMark does.
    static func fencedBlocks(_ markdown: String) -> [(fence: String, lines: [String])] {
        var blocks: [(String, [String])] = []
        var open: (fence: String, lines: [String])?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var current = open {
                let run = line.prefix { $0 == "`" }
                if run.count >= current.fence.count && line.dropFirst(run.count).allSatisfy({ $0 == " " }) {
                    blocks.append((current.fence, current.lines))
                    open = nil
                } else {
                    current.lines.append(line)
                    open = current
                }
            } else if line.hasPrefix("```") {
                open = (String(line.prefix { $0 == "`" }), [])
            }
        }
        return blocks
    }

    @Test func evidenceWithFencesCannotBreakOut() throws {
        let hostile = ["stdout: ```", "# Injected heading", "````", "``````python", "end of log"]
        let markdown = MarkdownRenderer().render(Self.report(evidence: hostile), runbooks: [])
        let block = try #require(Self.fencedBlocks(markdown).first { $0.lines.contains("# Injected heading") })
        #expect(block.fence.count == 7)
        #expect(block.lines == hostile)
        #expect(!markdown.contains("\n# Injected heading\n#"))
    }

    @Test func fixCommandsAreAChecklistOfCodeThatHoldsAnyText() {
        let markdown = MarkdownRenderer().render(
            Self.report(evidence: [], fix: ["docker compose logs | grep `id`", "`echo`"]), runbooks: [])
        #expect(markdown.contains("- [ ] `` docker compose logs | grep `id` ``"))
        #expect(markdown.contains("- [ ] `` `echo` ``"))
    }

    @Test func proseCannotBecomeHTMLOrBreakATable() {
        let markdown = MarkdownRenderer().render(
            Self.report(evidence: [], title: "<script>alert(1)</script> a|b uses `<svc>`"), runbooks: [])
        #expect(!markdown.contains("<script>"))
        #expect(markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // In the summary table the pipe is escaped; the code span keeps its angle brackets.
        #expect(markdown.contains("a\\|b uses `<svc>` |"))
    }

    @Test func longEvidenceKeepsItsEnd() throws {
        let lines = (1...100).map { "line \($0)" }
        let markdown = MarkdownRenderer().render(Self.report(evidence: [lines.joined(separator: "\n")]), runbooks: [])
        let block = try #require(Self.fencedBlocks(markdown).first { $0.lines.contains("line 100") })
        #expect(block.lines.count == 30)
        #expect(block.lines.first == "… 71 earlier lines")
        #expect(!block.lines.contains("line 71"))
        #expect(block.lines.contains("line 72"))
    }

    @Test func anInterruptedRunSaysSoAtTheTop() {
        let markdown = MarkdownRenderer().render(Self.report(evidence: [], stopped: "interrupted"), runbooks: [])
        let top = markdown.split(separator: "\n").prefix(4).joined(separator: "\n")
        #expect(top.contains("**Interrupted.**"))
    }

    @Test func theTakenPathIsDrawnForEachRunbookThatSawTheFinding() throws {
        let report = HandoffReport(run: try ReportFixtures.run("redis-down"), metadata: ReportFixtures.metadata)
        let markdown = MarkdownRenderer().render(report, runbooks: try ReportFixtures.runbooks())
        let charts = Self.fencedBlocks(markdown).filter { $0.lines.first == "flowchart TD" }
        #expect(charts.count == 3)
        #expect(markdown.contains("class s_users_health,s_users_ready,s_redis_running,d_redis_down taken"))
        #expect(
            markdown.contains(
                "Path: ✓ Users get 200 from /health on the backend's URL → ✗ Users get 200 from /ready on the backend's URL "
                    + "→ ✗ Redis is running → `redis-down`"
            ))
    }
}
