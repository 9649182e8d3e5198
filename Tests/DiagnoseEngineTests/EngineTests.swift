import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct EngineTests {
    /// A runbook of fake steps: `first` then `second`, each with the given outcome.
    static func tree(
        id: String, first: String = "pass", second: String = "pass", mapError: Bool = true, delay: String = "0ms",
        name: String = "shared"
    ) -> String {
        """
        id: \(id)
        title: Tree \(id)
        start: first
        steps:
          first:
            title: First
            probe: fake
            with: { outcome: \(first), name: \(name), delay: \(delay) }
            on: { pass: second, fail: first-failed\(mapError ? ", error: first-error" : "") }
          second:
            title: Second
            probe: fake
            with: { outcome: \(second), name: second-\(id) }
            timeout: 1s
            on: { pass: healthy, fail: second-failed }
        diagnoses:
          healthy: { severity: ok, title: Healthy }
          first-failed: { severity: critical, title: First failed }
          second-failed: { severity: warning, title: Second failed }
        \(mapError ? "  first-error: { severity: warning, title: First could not tell }" : "")
        """
    }

    func run(_ yamls: [String], registry: ProbeRegistry = .withFake(), deadline: Duration = .seconds(30)) async throws
        -> RunReport
    {
        let prepared = try yamls.map { PreparedRunbook(try runbook($0, registry: registry), inputs: [:]) }
        return await engine(registry, deadline: deadline).run(prepared)
    }

    @Test func eachOutcomeFollowsItsBranch() async throws {
        let report = try await run([
            Self.tree(id: "a"), Self.tree(id: "b", first: "fail"), Self.tree(id: "c", first: "error"),
            Self.tree(id: "d", second: "fail"),
        ])
        #expect(report.runbooks.map(\.diagnosis.id) == ["healthy", "first-failed", "first-error", "second-failed"])
        #expect(report.runbooks.map(\.status) == [.ok, .critical, .warning, .warning])
        #expect(report.runbooks[0].path.map(\.step) == ["first", "second"])
        #expect(report.runbooks[1].path.map(\.outcome) == [.fail])
        #expect(report.status == .critical)
        #expect(report.exitStatus == .critical)
    }

    @Test func anUnmappedErrorEndsInconclusiveNamingTheStepAndCause() async throws {
        let report = try await run([Self.tree(id: "a", first: "error", mapError: false)])
        let result = try #require(report.runbooks.first)
        #expect(result.diagnosis.id == "inconclusive")
        #expect(result.status == .unknown)
        #expect(result.diagnosis.title.contains("'First'"))
        #expect(result.diagnosis.title.contains("(fake)"))
        #expect(report.exitStatus == .unknown)
    }

    @Test func aFailIsRoutedByItsCauseElseToOther() async throws {
        func routed(_ cause: String) -> String {
            """
            title: Routes
            start: check
            steps:
              check:
                probe: fake
                with: { outcome: fail, cause: \(cause), name: route-\(cause) }
                on:
                  pass: fine
                  fail: { localhost: points-at-itself, host-port: host-port, other: wrong }
            diagnoses:
              fine: { severity: ok, title: Fine }
              points-at-itself: { severity: critical, title: Localhost }
              host-port: { severity: critical, title: Host port }
              wrong: { severity: warning, title: Wrong }
            """
        }
        let report = try await run(
            [routed("localhost"), routed("host-port"), routed("unknown-host")].enumerated().map {
                "id: r\($0.offset)\n" + $0.element
            })
        #expect(report.runbooks.map(\.diagnosis.id) == ["points-at-itself", "host-port", "wrong"])
    }

    @Test func criticalBeatsUnknownWhichBeatsWarning() {
        #expect(Status.worst([.ok, .warning, .unknown]) == .unknown)
        #expect(Status.worst([.unknown, .critical]) == .critical)
        #expect(Status.worst([.ok, .warning]) == .warning)
        #expect(Status.worst([.ok, .ok]) == .ok)
        #expect(ExitStatus(.ok).rawValue == 0)
        #expect(ExitStatus(.warning).rawValue == 1)
        #expect(ExitStatus(.critical).rawValue == 2)
        #expect(ExitStatus(.unknown).rawValue == 3)
    }

    @Test func anIdenticalProbeAskedByThreeRunbooksRunsOnce() async throws {
        let counter = RunCounter()
        let report = try await run(
            [Self.tree(id: "a", delay: "50ms"), Self.tree(id: "b", delay: "50ms"), Self.tree(id: "c", delay: "50ms")],
            registry: .withFake(counter))
        #expect(counter.count("shared") == 1)
        #expect(counter.count("second-a") == 1)
        #expect(report.runbooks.allSatisfy { $0.diagnosis.id == "healthy" })
        #expect(report.runbooks.flatMap(\.path).filter { $0.step == "first" && $0.shared }.count == 2)
    }

    @Test func theDeadlineStopsEverythingAndReportsWhatWasFound() async throws {
        let report = try await run(
            [Self.tree(id: "slow", delay: "20s"), Self.tree(id: "quick")], deadline: .milliseconds(300))
        #expect(report.stopped == "deadline")
        #expect(report.durationMs < 5000)
        let slow = try #require(report.runbooks.first { $0.id == "slow" })
        #expect(slow.status == .unknown)
        #expect(slow.diagnosis.id == "incomplete")
        #expect(slow.diagnosis.title.contains("while 'First' was running"))
        let quick = try #require(report.runbooks.first { $0.id == "quick" })
        #expect(quick.diagnosis.id == "healthy")
        #expect(report.exitStatus == .unknown)
    }

    @Test func cancellingTheRunReportsItInterrupted() async throws {
        let registry = ProbeRegistry.withFake()
        let prepared = [PreparedRunbook(try runbook(Self.tree(id: "a", delay: "20s"), registry: registry), inputs: [:])]
        let running = Task { await engine(registry).run(prepared) }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        let report = await running.value
        #expect(report.stopped == "interrupted")
        #expect(report.runbooks.first?.diagnosis.id == "interrupted")
    }

    @Test func aProbeThatOverrunsItsTimeoutIsAbandoned() async throws {
        let yaml = Self.tree(id: "a", delay: "30s").replacingOccurrences(
            of: "    title: First\n", with: "    title: First\n    timeout: 200ms\n")
        let report = try await run([yaml])
        let step = try #require(report.runbooks.first?.path.first)
        #expect(step.outcome == .error)
        #expect(step.cause == "overran")
        #expect(report.runbooks.first?.diagnosis.id == "first-error")
    }

    @Test func resultsComeInIDOrderWhateverFinishesFirst() async throws {
        let report = try await run([
            Self.tree(id: "zeta"), Self.tree(id: "alpha", delay: "100ms", name: "slow"), Self.tree(id: "mid"),
        ])
        #expect(report.runbooks.map(\.id) == ["alpha", "mid", "zeta"])
    }

    @Test func jsonDecodesBackIntoTheSameValues() async throws {
        let report = try await run([Self.tree(id: "a"), Self.tree(id: "b", first: "fail")])
        let json = report.json()
        #expect(json.contains("\"schema\" : \"diagnose.run/v1\""))
        let decoded = try RunReport.decode(Data(json.utf8))
        #expect(decoded == report)
    }

    @Test func badArgumentsAtRunTimeEndInError() async throws {
        let yaml = """
            title: T
            inputs: { code: "not-a-number" }
            start: run
            steps:
              run:
                probe: command
                with: { argv: [true], expect_exit: "{{ code }}" }
                on: { pass: fine, fail: broken, error: unusable }
            diagnoses:
              fine: { severity: ok, title: Fine }
              broken: { severity: critical, title: Broken }
              unusable: { severity: warning, title: "Exit code {{ code }} is unusable" }
            """
        let parsed = try runbook(yaml)
        let report = await engine(.standard).run([
            PreparedRunbook(parsed, inputs: try parsed.resolveInputs(InputSources()))
        ])
        let result = try #require(report.runbooks.first)
        #expect(result.path.first?.cause == "bad-argument")
        #expect(result.diagnosis.title == "Exit code not-a-number is unusable")
    }

    @Test func secretsAreRedactedEverywhereInTheReport() async throws {
        let yaml = """
            title: Secrets
            inputs:
              api_key: ${TEST_API_KEY:-sk-live-0123456789}
              url: redis://:hunter2pass@127.0.0.1:6379/0
            start: echo
            steps:
              echo:
                probe: command
                with: { argv: [echo, "{{ api_key }} {{ url }} GEMINI_API_KEY=plainvalue"] }
                on: { pass: fine, fail: fine }
            diagnoses:
              fine: { severity: ok, title: "Key {{ api_key }}", fix: ["redis-cli -u {{ url }} ping"] }
            """
        let parsed = try runbook(yaml)
        let inputs = try parsed.resolveInputs(InputSources())
        var redactor = Redactor.standard
        redactor.learn(from: inputs)
        let report = await engine(.standard, redactor: redactor).run([PreparedRunbook(parsed, inputs: inputs)])
        let json = report.json()
        let text = TextRenderer(verbose: true).render(report)
        for secret in ["sk-live-0123456789", "hunter2pass", "plainvalue"] {
            #expect(!json.contains(secret))
            #expect(!text.contains(secret))
        }
        #expect(json.contains("redis://:***@127.0.0.1"))
    }
}
