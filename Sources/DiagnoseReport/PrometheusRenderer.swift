import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// Renders a run in the Prometheus text exposition format, for node_exporter's textfile collector: each runbook's
/// status and severity, each step's outcome and duration, and the run's status, duration and timestamp
/// (docs/formats.md). Every metric has its `# HELP` and `# TYPE` lines; label values are escaped.
public struct PrometheusRenderer: Sendable {
    /// Creates a renderer.
    public init() {}

    /// The run as one exposition: metric families in a fixed order, samples in runbook and path order.
    public func render(_ report: RunReport) -> String {
        var out = ""
        func family(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(Self.help(help))\n# TYPE \(name) gauge\n"
            for sample in samples {
                let labels = sample.labels.map { "\($0.0)=\"\(Self.label($0.1))\"" }.joined(separator: ",")
                out += labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(labels)} \(sample.value)\n"
            }
        }
        family(
            "diagnose_run_status", "The run's status as its exit code: 0 ok, 1 warning, 2 critical, 3 unknown.",
            [([], "\(report.exitStatus.rawValue)")])
        family(
            "diagnose_run_timestamp_seconds", "When the run started, in seconds since the Unix epoch.",
            [([], Self.number(report.startedAt.timeIntervalSince1970))])
        family(
            "diagnose_run_duration_seconds", "How long the run took.",
            [([], Self.number(Double(report.durationMs) / 1000))])
        family(
            "diagnose_run_stopped", "1 when the run ended early (the deadline or an interruption), else 0.",
            [([], report.stopped == nil ? "0" : "1")])
        family(
            "diagnose_runbook_status", "1 for the status the runbook ended in, 0 for the others.",
            report.runbooks.flatMap { runbook in
                Status.allCases.map { status in
                    ([("runbook", runbook.id), ("status", status.rawValue)], runbook.status == status ? "1" : "0")
                }
            })
        family(
            "diagnose_runbook_severity",
            "The runbook's status as an exit code (0 ok, 1 warning, 2 critical, 3 unknown), with its diagnosis.",
            report.runbooks.map { runbook in
                (
                    [("runbook", runbook.id), ("diagnosis", runbook.diagnosis.id)],
                    "\(ExitStatus(runbook.status).rawValue)"
                )
            })
        family(
            "diagnose_runbook_duration_seconds", "How long the runbook took.",
            report.runbooks.map { ([("runbook", $0.id)], Self.number(Double($0.durationMs) / 1000)) })
        family(
            "diagnose_step_outcome", "1 for the outcome a step taken ended in, 0 for the others.",
            report.runbooks.flatMap { runbook in
                runbook.path.flatMap { record in
                    Outcome.allCases.map { outcome in
                        (
                            [("runbook", runbook.id), ("step", record.step), ("outcome", outcome.rawValue)],
                            record.outcome == outcome ? "1" : "0"
                        )
                    }
                }
            })
        family(
            "diagnose_step_duration_seconds", "How long the runbook waited for the step's observation.",
            report.runbooks.flatMap { runbook in
                runbook.path.map { record in
                    ([("runbook", runbook.id), ("step", record.step)], Self.number(Double(record.durationMs) / 1000))
                }
            })
        return out
    }

    /// A label value: backslash, double quote and line feed escaped, as the exposition format requires.
    static func label(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A HELP text: backslash and line feed escaped.
    static func help(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value without exponent or trailing zeros: `0.042`, `1795874610`.
    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
