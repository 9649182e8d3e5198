import DiagnoseReport
import Foundation
import Testing

/// `diagnose render`: a saved run or report turned into each view, and bad input refused with its location.
@Suite struct RenderCommandTests {
    @Test func aSavedRunRendersInEveryRunFormatAsTheRunItself() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("echo boom; false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let saved = await diagnose(["--all", "--format", "json", "--output", "run.json"], in: folder)
        #expect(saved.status == 2)
        let report = try RunReport.decode(Data(contentsOf: folder.appendingPathComponent("run.json")))
        for format in RunFormat.allCases {
            let rendered = await diagnose(["render", "run.json", "--format", format.rawValue], in: folder)
            #expect(rendered.status == 2, "\(format): \(rendered.stderr)")
            #expect(rendered.stdout == report.rendered(as: format), "\(format)")
        }
        let text = await diagnose(["render", "run.json"], in: folder)
        #expect(text.stdout.contains("⇒ CRITICAL Failed  [failed]"))
        let markdown = await diagnose(["render", "run.json", "--format", "markdown"], in: folder)
        #expect(markdown.stdout.hasPrefix("# Handoff: 🔴 CRITICAL on not recorded"))
    }

    @Test func aSavedReportRendersAsItsMarkdown() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(await diagnose(["report", "--output", "handoff.md"], in: folder).status == 2)
        let written = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
        let rendered = await diagnose(["render", "handoff.json"], in: folder)
        #expect(rendered.status == 2, "\(rendered.stderr)")
        // The same document, but for the flowcharts, which need the runbooks as they were.
        #expect(written.contains("```mermaid") && !rendered.stdout.contains("```mermaid"))
        let firstChart = try #require(written.range(of: "<details>"))
        #expect(rendered.stdout.hasPrefix(written[..<firstChart.lowerBound]))
        let nagios = await diagnose(["render", "handoff.json", "--format", "nagios"], in: folder)
        #expect(nagios.stdout.hasPrefix("DIAGNOSE CRITICAL - 1 of 1 runbook critical: red (failed) |"))
    }

    @Test(arguments: [
        ("{\"schema\": \"diagnose.run/v1\",\n  \"status\": oops}", "bad.json:2:13: error: not JSON"),
        (
            "{\"schema\": \"diagnose.run/v1\", \"status\": \"ok\",\n \"startedAt\": \"2026-01-01T00:00:00Z\",\n"
                + "  \"durationMs\": \"slow\", \"runbooks\": []}",
            "bad.json:3:17: error: durationMs: Expected to decode Int"
        ),
        (
            "{\"schema\": \"diagnose.run/v1\", \"status\": \"ok\", \"startedAt\": \"2026-01-01T00:00:00Z\",\n"
                + "  \"durationMs\": 3,\n  \"runbooks\": [\n    {\"id\": \"x\"}]}",
            "bad.json:4:5: error: missing key 'title' in runbooks[0]"
        ),
        ("{\"schema\": \"other/v2\"}", "bad.json:1:1: error: schema 'other/v2' is not diagnose.run/v1"),
        ("# Handoff\n", "bad.json:1:1: error: not JSON"),
    ])
    func badInputIsRefusedWithItsLocation(text: String, message: String) async throws {
        let folder = try workspace(["bad.json": text])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["render", "bad.json"], in: folder)
        #expect(run.status == 65)
        #expect(run.stderr.hasPrefix(message), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func aMissingFileExits66() async throws {
        let folder = try workspace([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["render", "gone.json"], in: folder)
        #expect(run.status == 66)
        #expect(run.stderr.contains("cannot read 'gone.json': no such file"))
    }
}
