import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct HandoffReportTests {
    static func result(_ id: String, _ diagnosis: String, _ severity: Status, title: String? = nil) -> RunbookResult {
        RunbookResult(
            id: id, title: id, diagnosis: Diagnosis(id: diagnosis, title: title ?? diagnosis, severity: severity),
            path: [],
            durationMs: 1)
    }

    static func run(_ results: RunbookResult...) -> RunReport {
        RunReport(startedAt: Date(timeIntervalSince1970: 1_795_874_592), durationMs: 10, runbooks: results)
    }

    @Test func aDiagnosisReachedBySeveralRunbooksIsOneFindingRankedFirst() throws {
        let findings = HandoffReport.findings(of: try ReportFixtures.run("redis-down"))
        // Recorded from the lab with redis stopped: three runbooks reach the same root cause.
        #expect(findings.map(\.key) == ["redis-down"])
        let redis = try #require(findings.first)
        #expect(redis.seenBy == ["backend-wont-start", "service-health", "worker-not-processing"])
        #expect(redis.isSharedRootCause)
        #expect(redis.title == "Redis is not running")
        // Fix commands of all three runbooks, each once, in order.
        #expect(
            redis.fix.map(\.command) == [
                "docker compose ps redis", "docker compose logs --tail 50 redis", "docker compose up -d redis",
            ])
        #expect(redis.fix.map(\.changesStack) == [false, false, true])
    }

    @Test func rankingIsSeverityThenRunbookCountThenId() {
        let findings = HandoffReport.findings(
            of: Self.run(
                Self.result("a", "disk-full", .warning), Self.result("b", "disk-full", .warning),
                Self.result("c", "zeta-down", .critical), Self.result("d", "alpha-down", .critical),
                Self.result("e", "shared-down", .critical), Self.result("f", "shared-down", .critical),
                Self.result("g", "fine", .ok), Self.result("h", "inconclusive", .unknown)))
        #expect(findings.map(\.key) == ["shared-down", "alpha-down", "zeta-down", "disk-full"])
    }

    @Test func aFindingTakesTheWorstSeverityOfItsRunbooks() {
        let findings = HandoffReport.findings(
            of: Self.run(
                Self.result("a", "redis-down", .warning), Self.result("b", "redis-down", .critical)))
        #expect(findings.map(\.severity) == [.critical])
        #expect(findings.first?.seenBy == ["a", "b"])
    }

    @Test func okAndInconclusiveRunbooksAreNotFindings() throws {
        #expect(HandoffReport.findings(of: try ReportFixtures.run("healthy")).isEmpty)
        let findings = HandoffReport.findings(of: try ReportFixtures.run("frontend-backend-url"))
        #expect(findings.map(\.key) == ["backend-url-localhost"])
    }

    @Test func sinceTellsNewResolvedAndStillOpen() {
        let previous = HandoffReport(
            run: Self.run(
                Self.result("backend", "redis-down", .critical), Self.result("worker", "redis-down", .critical),
                Self.result("frontend", "backend-unreachable", .warning)),
            metadata: ReportFixtures.metadata)
        let current = HandoffReport(
            run: Self.run(
                Self.result("backend", "healthy", .ok), Self.result("worker", "worker-stuck", .warning),
                Self.result("frontend", "backend-unreachable", .critical)),
            metadata: ReportFixtures.metadata, previous: previous, previousPath: "handoff-1.json")
        let changes = try! #require(current.changes)
        #expect(changes.new.map(\.key) == ["worker-stuck"])
        #expect(changes.resolved.map(\.key) == ["redis-down"])
        #expect(changes.stillOpen.map(\.key) == ["backend-unreachable"])
        #expect(changes.stillOpen.first?.previousSeverity == .warning)
        #expect(changes.stillOpen.first?.severity == .critical)
        #expect(changes.notRechecked.isEmpty)
        #expect(changes.previousPath == "handoff-1.json")

        let markdown = MarkdownRenderer().render(current, runbooks: [])
        #expect(markdown.contains("**New**\n\n- worker-stuck `worker-stuck` (warning)"))
        #expect(markdown.contains("**Resolved**\n\n- redis-down `redis-down` (critical)"))
        #expect(
            markdown.contains("**Still open**\n\n- backend-unreachable `backend-unreachable` (critical, was warning)"))
    }

    @Test func aFindingWhoseRunbookCouldNotConcludeIsNotResolved() {
        let previous = HandoffReport(
            run: Self.run(
                Self.result("backend", "redis-down", .critical), Self.result("worker", "redis-down", .critical)),
            metadata: ReportFixtures.metadata)
        let changes = HandoffReport.Changes(
            from: previous,
            to: Self.run(Self.result("backend", "healthy", .ok), Self.result("worker", "interrupted", .unknown)),
            path: "previous.json")
        #expect(changes.resolved.isEmpty)
        #expect(changes.notRechecked.map(\.key) == ["redis-down"])
    }

    @Test func theJSONReadsBackAndNamesItsSchema() throws {
        let report = HandoffReport(run: try ReportFixtures.run("redis-down"), metadata: ReportFixtures.metadata)
        let json = report.json()
        #expect(json.contains(#""schema" : "diagnose.report/v1""#))
        #expect(json.contains(#""schema" : "diagnose.run/v1""#))
        #expect(try HandoffReport.decode(Data(json.utf8)) == report)
    }

    @Test func filesThatAreNotReportsAreToldApart() throws {
        let run = try ReportFixtures.run("healthy")
        #expect(throws: ReportFileError.runReport) { try HandoffReport.decode(Data(run.json().utf8)) }
        #expect(throws: ReportFileError.notJSON) { try HandoffReport.decode(Data("# Handoff\n".utf8)) }
        #expect(throws: ReportFileError.otherSchema("x/v1")) {
            try HandoffReport.decode(Data(#"{"schema":"x/v1"}"#.utf8))
        }
        #expect(throws: ReportFileError.otherSchema(nil)) { try HandoffReport.decode(Data("{}".utf8)) }
        let broken = #"{"schema":"diagnose.report/v1","run":{}}"#
        #expect {
            try HandoffReport.decode(Data(broken.utf8))
        } throws: { error in
            guard case .malformed = error as? ReportFileError else { return false }
            return true
        }
        #expect(ReportFileError.runReport.description.contains("diagnose.run/v1"))
    }

    @Test func theComposeProjectComesFromAnInputThenTheEnvironmentThenTheFolder() {
        typealias Metadata = HandoffReport.Metadata
        #expect(
            Metadata.composeProject(
                inputs: [[:], ["project": "shop"]], environment: ["COMPOSE_PROJECT_NAME": "env"], envFile: [:],
                directory: "/srv/x") == "shop")
        #expect(
            Metadata.composeProject(
                inputs: [[:]], environment: ["COMPOSE_PROJECT_NAME": "env"], envFile: ["COMPOSE_PROJECT_NAME": "file"],
                directory: "/srv/x") == "env")
        #expect(
            Metadata.composeProject(
                inputs: [], environment: [:], envFile: ["COMPOSE_PROJECT_NAME": "file"], directory: "/srv/x") == "file")
        #expect(
            Metadata.composeProject(inputs: [], environment: [:], envFile: [:], directory: "/home/al/My Lab.v2")
                == "mylabv2")
    }
}
