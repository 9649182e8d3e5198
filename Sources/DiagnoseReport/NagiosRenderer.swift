import DiagnoseRunbook
import Foundation

/// Renders a run as one Nagios/Icinga plugin status line with performance data, e.g.
/// `DIAGNOSE CRITICAL - 2 of 5 runbooks critical: backend-wont-start (redis-down), ... | runbooks=5 critical=2 ...`.
/// The process's exit code (`ExitStatus`) is already the plugin's: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
public struct NagiosRenderer: Sendable {
    /// Creates a renderer.
    public init() {}

    /// The status line, ending in a line feed.
    public func render(_ report: RunReport) -> String {
        let total = report.runbooks.count
        var parts: [String] = []
        // Worst first, as the status word is the worst; ok runbooks are only counted.
        for status in [Status.critical, .unknown, .warning] {
            let matching = report.runbooks.filter { $0.status == status }
            guard !matching.isEmpty else { continue }
            let named = matching.map { "\($0.id) (\($0.diagnosis.id))" }.joined(separator: ", ")
            parts.append("\(matching.count) of \(total) runbook\(total == 1 ? "" : "s") \(status.rawValue): \(named)")
        }
        if parts.isEmpty { parts = ["\(total) of \(total) runbook\(total == 1 ? "" : "s") ok"] }
        if let stopped = report.stopped { parts.append("stopped: \(stopped)") }
        let counts = [Status.critical, .warning, .unknown, .ok].map { status in
            "\(status.rawValue)=\(report.runbooks.filter { $0.status == status }.count)"
        }
        let perfdata = (["runbooks=\(total)"] + counts + ["duration=\(Self.seconds(report.durationMs))s"])
            .joined(separator: " ")
        return
            "DIAGNOSE \(report.status.rawValue.uppercased()) - \(Self.plain(parts.joined(separator: "; "))) | \(perfdata)\n"
    }

    /// Text for the status line: one line, and no `|`, which would start the performance data.
    static func plain(_ text: String) -> String {
        String(text.map { $0 == "|" ? "/" : ($0.isNewline ? " " : $0) })
    }

    static func seconds(_ ms: Int) -> String {
        var text = String(format: "%.3f", Double(ms) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
