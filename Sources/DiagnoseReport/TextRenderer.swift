import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook

/// Renders a run for a person under stress: per runbook the path taken, then the diagnosis and the next commands.
public struct TextRenderer: Sendable {
    /// Whether to use ANSI colour (only on a terminal, never with `NO_COLOR`).
    public var colour: Bool
    /// Whether to show evidence for passing steps too.
    public var verbose: Bool
    /// At most this many evidence lines a step.
    public var evidenceLines = 14

    /// Creates a renderer.
    public init(colour: Bool = false, verbose: Bool = false) {
        self.colour = colour
        self.verbose = verbose
    }

    func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func mark(_ outcome: Outcome) -> String {
        switch outcome {
        case .pass: paint("✓", "32")
        case .fail: paint("✗", "31")
        case .error: paint("?", "33")
        }
    }

    func label(_ status: Status) -> String {
        switch status {
        case .ok: paint("OK", "32;1")
        case .warning: paint("WARNING", "33;1")
        case .critical: paint("CRITICAL", "31;1")
        case .unknown: paint("UNKNOWN", "35;1")
        }
    }

    /// The whole run as text.
    public func render(_ report: RunReport) -> String {
        var out = ""
        for runbook in report.runbooks {
            out += render(runbook)
            out += "\n"
        }
        let counts = Status.allCases.compactMap { status -> String? in
            let n = report.runbooks.filter { $0.status == status }.count
            return n == 0 ? nil : "\(n) \(status.rawValue)"
        }
        out += rootCauses(report)
        var footer =
            "\(report.runbooks.count) runbook\(report.runbooks.count == 1 ? "" : "s") in \(Self.milliseconds(report.durationMs)): \(counts.joined(separator: ", "))"
        if let stopped = report.stopped { footer += " (stopped: \(stopped))" }
        out += paint(footer, "1") + " → \(label(report.status)) (exit \(report.exitStatus.rawValue))\n"
        return out
    }

    /// When one finding explains others (the backend is down, so the frontend fails), the root cause first and what
    /// follows from it; when every runbook stopped on the same error (the engine is unreachable), that error once.
    func rootCauses(_ report: RunReport) -> String {
        let explained = report.runbooks.filter { $0.explainedBy != nil }
        var out = ""
        if !explained.isEmpty {
            for root in report.rootCauses {
                let followers = explained.filter { $0.explainedBy == root.id }
                guard !followers.isEmpty else { continue }
                out +=
                    "\(paint("Root cause:", "1")) \(safe(root.id)) ⇒ \(safe(root.diagnosis.title))  [\(safe(root.diagnosis.id))]\n"
                let list = followers.map { "\(safe($0.id)) (\(safe($0.diagnosis.id)))" }.joined(separator: ", ")
                out += "  explains: \(list)\n"
            }
        }
        let endings = report.runbooks.map { $0.path.last }
        if report.runbooks.count > 1, report.runbooks.allSatisfy({ $0.status == .unknown }),
            let first = endings.first ?? nil, first.outcome == .error, let cause = first.cause,
            endings.allSatisfy({ $0?.outcome == .error && $0?.cause == cause })
        {
            out +=
                "\(paint("Root cause:", "1")) every runbook stopped on the same error: \(safe(first.summary))  [\(safe(cause))]\n"
        }
        return out.isEmpty ? "" : out + "\n"
    }

    /// One runbook as text.
    public func render(_ runbook: RunbookResult) -> String {
        var out =
            "\(paint(safe(runbook.id), "1")) · \(safe(runbook.title)) · \(label(runbook.status)) · \(Self.milliseconds(runbook.durationMs))\n"
        let width = min(56, (runbook.path.map { safe($0.title).count }.max() ?? 0))
        for record in runbook.path {
            let shownTitle = safe(record.title)
            let title =
                shownTitle.count >= width
                ? shownTitle : shownTitle.padding(toLength: width, withPad: " ", startingAt: 0)
            let cause = record.cause.map { " [\(safe($0))]" } ?? ""
            let shared = record.shared ? " (shared)" : ""
            out +=
                "  \(mark(record.outcome)) \(title)  \(safe(record.summary.truncated(to: 160)))\(cause)  \(paint(Self.milliseconds(record.durationMs) + shared, "2"))\n"
            if verbose || record.outcome != .pass {
                for line in evidence(record) { out += "      \(paint("│", "2")) \(line)\n" }
            }
        }
        let diagnosis = runbook.diagnosis
        out += "  ⇒ \(label(diagnosis.severity)) \(paint(safe(diagnosis.title), "1"))  [\(safe(diagnosis.id))]\n"
        if let root = runbook.explainedBy { out += "    Follows from \(safe(root)): see that runbook for the cause.\n" }
        if !diagnosis.explain.isEmpty {
            for line in Self.wrap(OutputSanitizer.visible(diagnosis.explain, .lines), width: 96) {
                out += "    \(line)\n"
            }
        }
        if !diagnosis.fix.isEmpty {
            out += "    Next:\n"
            for entry in diagnosis.fix {
                // A command that changes the stack is told apart from a look, so that it is run on purpose.
                out +=
                    entry.changesStack
                    ? "      \(paint("!", "33;1")) \(safe(entry.command))  \(paint("(changes the stack)", "33"))\n"
                    : "      \(paint("$", "36")) \(safe(entry.command))\n"
            }
        }
        return out
    }

    func evidence(_ record: StepRecord) -> [String] {
        let lines = record.evidence.flatMap {
            $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        guard lines.count > evidenceLines else { return lines.map { shown($0) } }
        // Keep the end: a traceback's last line names the error.
        let kept = lines.suffix(evidenceLines - 1)
        return ["… \(lines.count - kept.count) earlier lines"] + kept.map { shown($0) }
    }

    /// An evidence line cut to 200 characters, tabs kept, every other control character shown.
    func shown(_ line: String) -> String { OutputSanitizer.visible(line.truncated(to: 200), .lines) }

    /// A one-line field as it may reach a terminal (see `OutputSanitizer`).
    func safe(_ text: String) -> String { OutputSanitizer.visible(text) }

    static func milliseconds(_ ms: Int) -> String {
        ms < 1000 ? "\(ms)ms" : String(format: "%.1fs", Double(ms) / 1000)
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty && line.count + word.count + 1 > width {
                    lines.append(line)
                    line = ""
                }
                line += line.isEmpty ? String(word) : " \(word)"
            }
            lines.append(line)
        }
        return lines
    }
}
