import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// Renders a handoff report as Markdown for an incident channel, a ticket or the next shift: the status first, then
/// the ranked findings with their evidence, path and fix, then what was ruled out and what could not be checked.
public struct MarkdownRenderer: Sendable {
    /// At most this many evidence lines a step; the end is kept, where a traceback names the error.
    public var evidenceLines = 30
    /// Longer evidence lines are cut.
    public var lineLength = 240

    /// Creates a renderer. The report and the runbooks are drawn as given: the engine redacts them where it makes
    /// them (see `RunPlan.handoff(_:metadata:previous:previousPath:)`).
    public init() {}

    /// The report as Markdown; `runbooks` supply the trees for the flowcharts (a runbook not given gets none).
    public func render(_ report: HandoffReport, runbooks: [Runbook]) -> String {
        let trees = Dictionary(runbooks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var sections = [header(report), summary(report)]
        if let changes = report.changes { sections.append(self.changes(changes)) }
        sections.append(findings(report, trees: trees))
        sections.append(ruledOut(report.run))
        sections.append(unchecked(report.run))
        sections.append(inputs(report.run))
        return sections.filter { !$0.isEmpty }.joined(separator: "\n") + footer(report)
    }

    // MARK: Sections

    func header(_ report: HandoffReport) -> String {
        let run = report.run
        let metadata = report.metadata
        var out = "# Handoff: \(label(run.status)) on \(text(metadata.composeProject))\n\n"
        if run.stopped == "interrupted" {
            out += "> **Interrupted.** The run was stopped before every runbook finished; what follows is what it "
            out +=
                "found until then. Run \(inlineCode(metadata.command.isEmpty ? "diagnose report --all" : metadata.command)) "
            out += "again to finish the check.\n\n"
        } else if run.stopped == "deadline" {
            out += "> **Deadline reached.** Some runbooks did not finish within the --deadline; "
            out += "what follows is what they found until then.\n\n"
        }
        let problems = report.findings
        if problems.isEmpty {
            out +=
                run.status == .ok ? "No problems found.\n\n" : "No diagnosis reached; see *Could not be checked*.\n\n"
        } else {
            let top = problems[0]
            let seen = top.isSharedRootCause ? " (seen by \(top.seenBy.count) runbooks)" : ""
            let more = problems.count > 1 ? ", and \(problems.count - 1) more" : ""
            out += "**\(problems.count) problem\(problems.count == 1 ? "" : "s") found.** "
            out += "Start with: **\(text(top.title))**\(seen)\(more).\n\n"
        }
        out += "- **Status:** \(label(run.status)) (exit \(run.exitStatus.rawValue))\n"
        out += "- **When:** \(Self.timestamp(run.startedAt)), took \(TextRenderer.milliseconds(run.durationMs))\n"
        out += "- **Where:** Compose project \(inlineCode(metadata.composeProject)) in "
        out += "\(inlineCode(metadata.projectDirectory)) on host \(inlineCode(metadata.host))\n"
        out += "- **Run by:** \(inlineCode(metadata.user))\n"
        if !metadata.command.isEmpty { out += "- **Command:** \(inlineCode(metadata.command))\n" }
        return out
    }

    func summary(_ report: HandoffReport) -> String {
        var out = "## Summary\n\n| Runbook | Status | Diagnosis |\n|---|---|---|\n"
        for result in report.run.runbooks {
            out += row(
                "\(inlineCode(result.id)) \(text(result.title))", label(result.status), text(result.diagnosis.title))
        }
        return out
    }

    func changes(_ changes: HandoffReport.Changes) -> String {
        var out = "## Since the previous report\n\n"
        out +=
            "Compared with \(inlineCode(changes.previousPath)) (run \(Self.timestamp(changes.previousStartedAt))).\n\n"
        func list(_ heading: String, _ entries: [HandoffReport.Changes.Entry]) {
            guard !entries.isEmpty else { return }
            out += "**\(heading)**\n\n"
            for entry in entries {
                var was = ""
                if let previous = entry.previousSeverity, previous != entry.severity {
                    was = ", was \(previous.rawValue)"
                }
                out += "- \(text(entry.title)) \(inlineCode(entry.key)) (\(entry.severity.rawValue)\(was))\n"
            }
            out += "\n"
        }
        list("New", changes.new)
        list("Still open", changes.stillOpen)
        list("Resolved", changes.resolved)
        list("Not re-checked (a runbook that saw it did not run or could not conclude)", changes.notRechecked)
        if changes.new.isEmpty && changes.stillOpen.isEmpty && changes.resolved.isEmpty
            && changes.notRechecked.isEmpty
        {
            out += "No findings then or now.\n\n"
        }
        return String(out.dropLast())
    }

    func findings(_ report: HandoffReport, trees: [String: Runbook]) -> String {
        guard !report.findings.isEmpty else { return "" }
        let ranking =
            report.findings.contains { $0.follows != nil }
            ? "Root causes first (a finding that follows from another comes after it), then by severity, then by how many runbooks reached the same diagnosis."
            : "Ranked by severity, then by how many runbooks reached the same diagnosis."
        var out = "## Findings\n\n\(ranking)\n"
        let results = Dictionary(report.run.runbooks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, finding) in report.findings.enumerated() {
            out =
                out.trimmingWhitespace()
                + "\n\n### \(index + 1). \(label(finding.severity)): \(text(finding.title))\n\n"
            let seenBy = finding.seenBy.map(inlineCode).joined(separator: ", ")
            out += "Diagnosis \(inlineCode(finding.key)), seen by \(seenBy)"
            out += finding.isSharedRootCause ? ": a shared root cause.\n\n" : ".\n\n"
            if let root = finding.follows {
                out += "Follows from \(inlineCode(root)) above: fix that first.\n\n"
            }
            if !finding.explain.isEmpty { out += "\(text(finding.explain))\n\n" }
            if !finding.fix.isEmpty {
                out += "**Fix**\n\n"
                for entry in finding.fix {
                    out += "- [ ] \(inlineCode(entry.command))\(entry.changesStack ? " **(changes the stack)**" : "")\n"
                }
                out += "\n"
            }
            var shown = Set<StepRecord>()
            for id in finding.seenBy {
                guard let result = results[id] else { continue }
                out += "**Evidence from \(inlineCode(id))**\n\n"
                out += pathLine(result) + "\n\n"
                for record in result.path where record.outcome != .pass {
                    var key = record
                    key.shared = false
                    key.durationMs = 0
                    guard shown.insert(key).inserted else {
                        out += "*\(text(record.title))*: same evidence as above.\n\n"
                        continue
                    }
                    out += evidence(record)
                }
                if var tree = trees[id] {
                    // Titles as the run filled them in; the inputs are already redacted.
                    tree.diagnoses = tree.diagnoses.map { diagnosis in
                        var diagnosis = diagnosis
                        diagnosis.title = Template.render(diagnosis.title, result.inputs)
                        return diagnosis
                    }
                    out +=
                        "<details><summary>Decision tree of <code>\(OutputSanitizer.escapeHTML(OutputSanitizer.visible(id)))</code>, "
                    out += "path taken in blue</summary>\n\n"
                    let chart = TreeRenderer().mermaid(tree, taken: result.path.map(\.step) + [result.diagnosis.id])
                    out += fenced(chart, info: "mermaid")
                    out += "\n</details>\n\n"
                }
            }
        }
        return String(out.dropLast())
    }

    func ruledOut(_ run: RunReport) -> String {
        var rows: [(check: String, result: String, runbooks: [String])] = []
        for result in run.runbooks {
            for record in result.path where record.outcome == .pass {
                if let index = rows.firstIndex(where: { $0.check == record.title && $0.result == record.summary }) {
                    if !rows[index].runbooks.contains(result.id) { rows[index].runbooks.append(result.id) }
                } else {
                    rows.append((record.title, record.summary, [result.id]))
                }
            }
        }
        guard !rows.isEmpty else { return "" }
        var out = "## Ruled out\n\nChecks that passed.\n\n| Check | Result | Runbooks |\n|---|---|---|\n"
        for entry in rows {
            out += row(text(entry.check), text(entry.result), entry.runbooks.map(inlineCode).joined(separator: ", "))
        }
        return out
    }

    func unchecked(_ run: RunReport) -> String {
        var out = ""
        for result in run.runbooks {
            let inconclusive = result.diagnosis.id == Diagnosis.inconclusiveID
            for (index, record) in result.path.enumerated() where record.outcome == .error {
                let cause = record.cause.map { " (\(inlineCode($0)))" } ?? ""
                out += "- \(inlineCode(result.id)) · **\(text(record.title))**\(cause): \(text(record.summary))"
                out +=
                    inconclusive && index == result.path.count - 1
                    ? "; the runbook stopped here, inconclusive.\n" : "\n"
            }
            if result.status == .unknown && !(inconclusive && result.path.last?.outcome == .error) {
                out += "- \(inlineCode(result.id)) ended without a diagnosis: **\(text(result.diagnosis.title))**. "
                out += "\(text(result.diagnosis.explain))\n"
            }
        }
        guard !out.isEmpty else { return "" }
        return "## Could not be checked\n\nProbes that could not tell, and runbooks that did not conclude.\n\n" + out
    }

    func inputs(_ run: RunReport) -> String {
        var rows: [(name: String, value: String, runbooks: [String])] = []
        for result in run.runbooks {
            for (name, value) in result.inputs.sorted(by: { $0.key < $1.key }) {
                if let index = rows.firstIndex(where: { $0.name == name && $0.value == value }) {
                    rows[index].runbooks.append(result.id)
                } else {
                    rows.append((name, value, [result.id]))
                }
            }
        }
        guard !rows.isEmpty else { return "" }
        var out =
            "## Inputs\n\nSecrets are shown as `\(Redactor.mask)`.\n\n| Input | Value | Runbooks |\n|---|---|---|\n"
        for entry in rows.sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
            let value = entry.value.isEmpty ? "(empty)" : inlineCode(entry.value)
            out += row(inlineCode(entry.name), value, entry.runbooks.map(inlineCode).joined(separator: ", "))
        }
        return out
    }

    func footer(_ report: HandoffReport) -> String {
        "\n---\n\nWritten by `diagnose report` at \(Self.timestamp(report.metadata.generatedAt)). "
            + "The JSON beside this file (\(HandoffReport.schemaName)) is what `diagnose report --since` reads.\n"
    }

    // MARK: Pieces

    /// `✓ Title → ✗ Title → diagnosis-id`, the path a runbook took, readable where Mermaid is not drawn.
    func pathLine(_ result: RunbookResult) -> String {
        let steps = result.path.map { record -> String in
            let mark =
                switch record.outcome {
                case .pass: "✓"
                case .fail: "✗"
                case .error: "?"
                }
            return "\(mark) \(text(record.title))"
        }
        return "Path: " + (steps + [inlineCode(result.diagnosis.id)]).joined(separator: " → ")
    }

    func evidence(_ record: StepRecord) -> String {
        let cause = record.cause.map { " (\(inlineCode($0)))" } ?? ""
        var out = "*\(text(record.title))*, \(record.outcome.rawValue)\(cause): \(text(record.summary))\n\n"
        let lines = record.evidence.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { String($0).truncated(to: lineLength) }
        guard !lines.isEmpty else { return out }
        let kept =
            lines.count > evidenceLines
            ? ["… \(lines.count - evidenceLines + 1) earlier lines"]
                + lines.suffix(evidenceLines - 1) : lines
        out += fenced(kept.joined(separator: "\n") + "\n", info: "text") + "\n"
        return out
    }

    /// A fenced block of observed lines (see `OutputSanitizer.markdownFence(_:info:)`).
    func fenced(_ content: String, info: String) -> String { OutputSanitizer.markdownFence(content, info: info) }

    /// Inline code on one line that no text can close (see `OutputSanitizer.markdownCode(_:)`).
    func inlineCode(_ value: String) -> String { OutputSanitizer.markdownCode(value) }

    /// Prose from a runbook or a probe on one line, inert (see `OutputSanitizer.markdownText(_:)`).
    func text(_ value: String) -> String { OutputSanitizer.markdownText(value) }

    /// A table row (see `OutputSanitizer.markdownRow(_:)`).
    func row(_ cells: String...) -> String { OutputSanitizer.markdownRow(cells) }

    func label(_ status: Status) -> String {
        switch status {
        case .ok: "🟢 OK"
        case .warning: "🟠 WARNING"
        case .critical: "🔴 CRITICAL"
        case .unknown: "⚪ UNKNOWN"
        }
    }

    /// `2026-11-28 14:03:12 UTC`, the same on every machine.
    static func timestamp(_ date: Date) -> String {
        date.formattedUTC("yyyy-MM-dd HH:mm:ss 'UTC'")
    }
}
