import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// One root cause across runbooks: a diagnosis that `follows` another runbook points at it when that runbook failed.
@Suite struct RootCauseTests {
    static func result(
        _ id: String, _ diagnosis: String, _ severity: Status, follows: String? = nil, lastStep: StepRecord? = nil
    ) -> RunbookResult {
        RunbookResult(
            id: id, title: id,
            diagnosis: Diagnosis(id: diagnosis, title: "title of \(diagnosis)", severity: severity, follows: follows),
            path: lastStep.map { [$0] } ?? [], durationMs: 1)
    }

    static func run(_ results: RunbookResult...) -> RunReport {
        RunReport(startedAt: Date(timeIntervalSince1970: 1_795_874_592), durationMs: 10, runbooks: results)
    }

    static let backendDown = result("backend-wont-start", "backend-loopback-only", .critical)
    static let frontendFails = result(
        "frontend-connection-refused", "backend-not-healthy", .critical, follows: "backend-wont-start")
    static let healthFails = result(
        "service-health", "backend-health-failing", .critical, follows: "backend-wont-start")

    @Test func aConsequenceIsExplainedByTheRunbookItFollowsWhenThatOneFailed() {
        let report = Self.run(Self.backendDown, Self.frontendFails, Self.healthFails)
        #expect(report.runbooks.map(\.explainedBy) == [nil, "backend-wont-start", "backend-wont-start"])
        #expect(report.rootCauses.map(\.id) == ["backend-wont-start"])
        let text = TextRenderer().render(report)
        #expect(
            text.contains(
                "Root cause: backend-wont-start ⇒ title of backend-loopback-only  [backend-loopback-only]\n"
                    + "  explains: frontend-connection-refused (backend-not-healthy), service-health (backend-health-failing)"
            ), "\(text)")
        #expect(text.contains("Follows from backend-wont-start: see that runbook for the cause."))
    }

    @Test func nothingIsExplainedByARunbookThatEndedOKOrDidNotRun() {
        let backendOK = Self.result("backend-wont-start", "backend-ok", .ok)
        #expect(Self.run(backendOK, Self.frontendFails).runbooks.map(\.explainedBy) == [nil, nil])
        #expect(Self.run(Self.frontendFails).runbooks.map(\.explainedBy) == [nil])
        #expect(!TextRenderer().render(Self.run(Self.frontendFails)).contains("Root cause"))
    }

    @Test func aChainEndsAtTheFirstRunbookThatFollowsNone() {
        let redis = Self.result("worker-not-processing", "redis-down", .critical)
        let backend = Self.result(
            "backend-wont-start", "backend-cannot-reach-redis", .critical, follows: "worker-not-processing")
        let report = Self.run(backend, Self.frontendFails, redis)
        #expect(report.runbooks.map(\.explainedBy) == ["worker-not-processing", "worker-not-processing", nil])
        // A cycle of follows ends without looping.
        let a = Self.result("a", "x", .critical, follows: "b")
        let b = Self.result("b", "y", .critical, follows: "a")
        #expect(Self.run(a, b).runbooks.map(\.explainedBy) == ["b", "a"])
    }

    @Test func theHandoffReportRanksTheRootCauseFirstAndMarksWhatFollows() {
        let findings = HandoffReport.findings(of: Self.run(Self.backendDown, Self.frontendFails, Self.healthFails))
        #expect(findings.map(\.key) == ["backend-loopback-only", "backend-health-failing", "backend-not-healthy"])
        #expect(findings.map(\.follows) == [nil, "backend-loopback-only", "backend-loopback-only"])
    }

    @Test func runbooksThatAllStoppedOnTheSameErrorNameItOnce() {
        let step = StepRecord(
            step: Step(id: "s", title: "s", probe: "compose-service", next: [:]),
            observation: .error(
                "engine-unreachable", "the Docker engine does not answer at unix:///var/run/docker.sock"),
            durationMs: 1)
        let report = Self.run(
            Self.result("a", "inconclusive", .unknown, lastStep: step),
            Self.result("b", "inconclusive", .unknown, lastStep: step))
        #expect(
            TextRenderer().render(report).contains(
                "Root cause: every runbook stopped on the same error: the Docker engine does not answer at unix:///var/run/docker.sock  [engine-unreachable]"
            ))
    }
}
