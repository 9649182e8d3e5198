import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// Renders a run as JUnit XML for CI systems: a `testsuite` per runbook, a `testcase` per step taken, and a last
/// `testcase` named `diagnosis` that carries the runbook's result (docs/formats.md).
///
/// A failing step carries its summary and evidence in `<failure>`, a step that ended in error in `<error>`; the
/// diagnosis fails when it is a warning or critical and errs when the runbook could not conclude. The output keeps to
/// the Jenkins/Surefire schema subset in `docs/schemas/junit.xsd`.
public struct JUnitRenderer: Sendable {
    /// Creates a renderer.
    public init() {}

    /// The whole run as one `testsuites` document.
    public func render(_ report: RunReport) -> String {
        let suites = report.runbooks.map(suite)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"diagnose\" tests=\"\(suites.map(\.tests).reduce(0, +))\""
            + " failures=\"\(suites.map(\.failures).reduce(0, +))\" errors=\"\(suites.map(\.errors).reduce(0, +))\""
            + " time=\"\(Self.seconds(report.durationMs))\">\n"
        let timestamp = Self.timestamp(report.startedAt)
        for (runbook, suite) in zip(report.runbooks, suites) {
            out +=
                "  <testsuite name=\(Self.attribute(runbook.id)) tests=\"\(suite.tests)\" failures=\"\(suite.failures)\""
                + " errors=\"\(suite.errors)\" skipped=\"0\" time=\"\(Self.seconds(runbook.durationMs))\""
                + " timestamp=\"\(timestamp)\">\n"
            out += "    <properties>\n"
            let properties = [
                ("title", runbook.title), ("status", runbook.status.rawValue), ("diagnosis", runbook.diagnosis.id),
                ("diagnosis.title", runbook.diagnosis.title),
            ]
            for (name, value) in properties {
                out += "      <property name=\(Self.attribute(name)) value=\(Self.attribute(value))/>\n"
            }
            out += "    </properties>\n"
            out += suite.cases
            out += "    <system-out>\(Self.text(summary(runbook)))</system-out>\n"
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    struct Suite {
        var tests = 0
        var failures = 0
        var errors = 0
        var cases = ""
    }

    func suite(_ runbook: RunbookResult) -> Suite {
        var suite = Suite()
        let classname = Self.attribute(runbook.id)
        for record in runbook.path {
            suite.tests += 1
            let head =
                "    <testcase classname=\(classname) name=\(Self.attribute("\(record.step): \(record.title)"))"
                + " time=\"\(Self.seconds(record.durationMs))\""
            let message = record.summary + (record.cause.map { " [\($0)]" } ?? "")
            let body = Self.text(record.evidence.joined(separator: "\n"))
            switch record.outcome {
            case .pass:
                suite.cases += head + "/>\n"
            case .fail:
                suite.failures += 1
                suite.cases +=
                    head + ">\n      <failure message=\(Self.attribute(message))"
                    + " type=\(Self.attribute(record.cause ?? "fail"))>\(body)</failure>\n    </testcase>\n"
            case .error:
                suite.errors += 1
                suite.cases +=
                    head + ">\n      <error message=\(Self.attribute(message))"
                    + " type=\(Self.attribute(record.cause ?? "error"))>\(body)</error>\n    </testcase>\n"
            }
        }
        suite.tests += 1
        let diagnosis = runbook.diagnosis
        let head = "    <testcase classname=\(classname) name=\"diagnosis\" time=\"0\""
        let message = Self.attribute("\(diagnosis.severity.rawValue.uppercased()) \(diagnosis.title) [\(diagnosis.id)]")
        let body = Self.text(summary(runbook))
        switch diagnosis.severity {
        case .ok:
            suite.cases += head + "/>\n"
        case .warning, .critical:
            suite.failures += 1
            suite.cases +=
                head
                + ">\n      <failure message=\(message) type=\"\(diagnosis.severity.rawValue)\">\(body)</failure>\n"
                + "    </testcase>\n"
        case .unknown:
            suite.errors += 1
            suite.cases +=
                head + ">\n      <error message=\(message) type=\"unknown\">\(body)</error>\n    </testcase>\n"
        }
        return suite
    }

    /// The diagnosis as plain text: severity, title and id, the explanation and the next commands.
    func summary(_ runbook: RunbookResult) -> String {
        let diagnosis = runbook.diagnosis
        var lines = ["\(diagnosis.severity.rawValue.uppercased()) \(diagnosis.title) [\(diagnosis.id)]"]
        if !diagnosis.explain.isEmpty { lines.append(diagnosis.explain) }
        if !diagnosis.fix.isEmpty {
            lines +=
                ["Next:"]
                + diagnosis.fix.map { $0.changesStack ? "! \($0.command)  (changes the stack)" : "$ \($0.command)" }
        }
        return lines.joined(separator: "\n")
    }

    /// Seconds with three decimals, as Surefire writes them.
    static func seconds(_ ms: Int) -> String { String(format: "%.3f", Double(ms) / 1000) }

    /// `2026-11-28T14:03:12`: UTC without a zone, the form the JUnit schemas accept.
    static func timestamp(_ date: Date) -> String {
        date.formattedUTC("yyyy-MM-dd'T'HH:mm:ss")
    }

    /// Character data: markup escaped, and characters XML 1.0 cannot carry (most C0 controls) dropped.
    static func text(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A quoted attribute value: quotes escaped, line breaks and tabs as character references so they survive
    /// attribute-value normalisation.
    static func attribute(_ value: String) -> String {
        var out = "\""
        for scalar in text(value).unicodeScalars {
            switch scalar {
            case "\"": out += "&quot;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
