import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// The junit, prometheus and nagios renderers, each checked by the program that reads it.
@Suite struct FormatTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/schemas/junit.xsd").path

    /// A run whose strings hold everything the formats must escape: quotes, backslashes, markup, line breaks,
    /// control characters, a pipe. The ids, which a runbook keeps to letters, digits and dashes, are odd too: a
    /// saved run given to `diagnose render` may say anything.
    static let hostile: RunReport = {
        let nasty = "a \"quoted\" \\path\\ <b>&amp;</b> ]]> | line\nbreak \u{1}\u{7}"
        let step = Step(id: "probe-1", title: "Checks \(nasty)", probe: "command", next: [:])
        let records = [
            StepRecord(
                step: step, observation: Observation(outcome: .fail, cause: "c\"x", summary: nasty, evidence: [nasty]),
                durationMs: 12),
            StepRecord(
                step: Step(id: "probe \"2\"\\\n", title: "Errs", probe: "command", next: [:]),
                observation: .error("timeout", nasty), durationMs: 1500),
        ]
        let runbook = RunbookResult(
            id: "odd-runbook",
            title: nasty,
            diagnosis: Diagnosis(
                id: "odd", title: nasty, severity: .warning, explain: nasty,
                fix: [Fix(nasty), Fix(nasty + " --force-recreate", changesStack: true)]),
            path: records, durationMs: 1512)
        return RunReport(startedAt: Date(timeIntervalSince1970: 1_795_874_610), durationMs: 1600, runbooks: [runbook])
    }()

    static func scenarios() throws -> [RunReport] {
        try ReportFixtures.scenarios.map(ReportFixtures.run) + [hostile]
    }

    @Test(needs("promtool", from: "prometheus"))
    func promtoolAcceptsThePrometheusOutput() async throws {
        for report in try Self.scenarios() {
            let verdict = try await check(PrometheusRenderer().render(report), with: ["promtool", "check", "metrics"])
            #expect(verdict.status == 0, "\(verdict)")
            #expect(!verdict.output.contains("error"), "\(verdict)")
        }
    }

    @Test(needs("promtool", from: "prometheus"))
    func promtoolRefusesABrokenExposition() async throws {
        // The check above means something only if promtool does refuse what is wrong.
        let broken = PrometheusRenderer().render(try ReportFixtures.run("redis-down"))
            .replacingOccurrences(of: "runbook=\"", with: "runbook=\"\"")
        let verdict = try await check(broken, with: ["promtool", "check", "metrics"])
        #expect(verdict.status != 0, "\(verdict)")
    }

    @Test func prometheusHasEveryRunbookStatusStepAndTimestamp() throws {
        let report = try ReportFixtures.run("redis-down")
        let text = PrometheusRenderer().render(report)
        #expect(text.contains("diagnose_runbook_status{runbook=\"backend-wont-start\",status=\"critical\"} 1\n"))
        #expect(text.contains("diagnose_runbook_status{runbook=\"backend-wont-start\",status=\"ok\"} 0\n"))
        #expect(text.contains("diagnose_runbook_severity{runbook=\"stack-config\",diagnosis=\"config-ok\"} 0\n"))
        #expect(text.contains("diagnose_run_status 2\n"))
        #expect(text.contains("diagnose_run_timestamp_seconds \(Int(report.startedAt.timeIntervalSince1970))\n"))
        let steps = report.runbooks.map(\.path.count).reduce(0, +)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("diagnose_step_duration_seconds{") }.count == steps)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("diagnose_step_outcome{") }.count == steps * 3)
        for name in ["diagnose_run_status", "diagnose_runbook_status", "diagnose_step_outcome"] {
            #expect(text.contains("# HELP \(name) ") && text.contains("# TYPE \(name) gauge\n"))
        }
    }

    @Test func prometheusEscapesLabelValues() {
        let text = PrometheusRenderer().render(Self.hostile)
        #expect(
            text.contains(
                #"diagnose_step_outcome{runbook="odd-runbook",step="probe-1",outcome="fail"} 1"#))
        #expect(text.contains(#"diagnose_step_duration_seconds{runbook="odd-runbook",step="probe \"2\"\\\n"} 1.5"#))
    }

    @Test(needs("xmllint", from: "libxml2-utils"))
    func theJUnitOutputValidatesAgainstTheSchema() async throws {
        for report in try Self.scenarios() {
            let verdict = try await check(
                JUnitRenderer().render(report), with: ["xmllint", "--noout", "--schema", Self.schema, "-"])
            #expect(verdict.status == 0, "\(verdict)")
        }
    }

    @Test(needs("xmllint", from: "libxml2-utils"))
    func theSchemaRefusesJUnitItDoesNotDescribe() async throws {
        let wrong = JUnitRenderer().render(try ReportFixtures.run("healthy"))
            .replacingOccurrences(of: "<testcase ", with: "<testcase nom=\"x\" ")
        let verdict = try await check(wrong, with: ["xmllint", "--noout", "--schema", Self.schema, "-"])
        #expect(verdict.status != 0, "\(verdict)")
    }

    @Test(needs("xmllint", from: "libxml2-utils"))
    func aFailingStepCarriesItsEvidenceInItsFailure() async throws {
        let report = try ReportFixtures.run("redis-down")
        let xml = JUnitRenderer().render(report)
        let backend = try #require(report.runbooks.first { $0.id == "backend-wont-start" })
        // A title without an apostrophe, which would end the XPath string literal below.
        let failing = try #require(backend.path.first { $0.outcome == .fail && !$0.title.contains("'") })
        // Read back by libxml2: the failure's text is the evidence, unescaped.
        let query =
            "string(//testsuite[@name='backend-wont-start']/testcase[@name='\(failing.step): \(failing.title)']/failure)"
        let verdict = try await check(xml, with: ["xmllint", "--xpath", query, "-"])
        #expect(verdict.output.contains(failing.evidence.joined(separator: "\n")), "\(verdict)")
        let cases = try await check(xml, with: ["xmllint", "--xpath", "count(//testcase)", "-"])
        #expect(cases.output.trimmingWhitespace() == "\(report.runbooks.map { $0.path.count + 1 }.reduce(0, +))")
        let diagnosis = try await check(
            xml,
            with: [
                "xmllint", "--xpath",
                "string(//testsuite[@name='backend-wont-start']/testcase[@name='diagnosis']/failure/@type)", "-",
            ])
        #expect(diagnosis.output.trimmingWhitespace() == "critical")
    }

    @Test func theJUnitCountsFollowTheOutcomes() {
        let xml = JUnitRenderer().render(Self.hostile)
        #expect(xml.contains("<testsuite name=\"odd-runbook\" tests=\"3\" failures=\"2\" errors=\"1\""))
        #expect(!xml.contains("\u{1}") && !xml.contains("\u{7}"))
        #expect(xml.contains(" --force-recreate  (changes the stack)</failure>"))
        #expect(
            xml.contains("message=\"a &quot;quoted&quot; \\path\\ &lt;b&gt;&amp;amp;&lt;/b&gt; ]]&gt; | line&#10;break")
        )
    }

    @Test func nagiosNamesTheCriticalRunbooksAndCountsThemInPerfdata() throws {
        let line = NagiosRenderer().render(try ReportFixtures.run("redis-down"))
        #expect(
            line
                == "DIAGNOSE CRITICAL - 3 of 5 runbooks critical: backend-wont-start (redis-down), "
                + "service-health (redis-down), worker-not-processing (redis-down) "
                + "| runbooks=5 critical=3 warning=0 unknown=0 ok=2 duration=2.526s\n")
        let healthy = NagiosRenderer().render(try ReportFixtures.run("healthy"))
        #expect(healthy.hasPrefix("DIAGNOSE OK - 5 of 5 runbooks ok | runbooks=5 critical=0 warning=0 unknown=0 ok=5"))
    }

    @Test func nagiosKeepsToOneLineWithOnePipe() {
        var report = Self.hostile
        report.runbooks[0].diagnosis.id = "odd|id\nx"
        let line = NagiosRenderer().render(report)
        #expect(line.hasPrefix("DIAGNOSE WARNING - 1 of 1 runbook warning: odd-runbook (odd/id x) |"))
        #expect(line.filter { $0 == "|" }.count == 1 && line.filter(\.isNewline).count == 1)
    }
}
