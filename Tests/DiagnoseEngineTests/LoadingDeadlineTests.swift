import DiagnoseEngine
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// `--deadline` over loading: loading runs on its own thread within the deadline, and the run gets what is left.
@Suite struct LoadingDeadlineTests {
    struct Broken: Error, Equatable {}

    @Test func workThatFinishesGivesItsValue() async throws {
        let outcome = await LoadingDeadline.run(within: .seconds(60)) { 42 }
        guard case .finished(let result) = outcome else { Issue.record("expired"); return }
        #expect(try result.get() == 42)
    }

    @Test func workThatThrowsGivesItsError() async throws {
        let outcome = await LoadingDeadline.run(within: .seconds(60)) { () throws -> Int in throw Broken() }
        guard case .finished(let result) = outcome else { Issue.record("expired"); return }
        #expect(throws: Broken.self) { try result.get() }
    }

    @Test func workStillBlockedAtTheLimitIsLeftBehind() async throws {
        // The work waits for a semaphore nobody signals until the outcome is in: only the limit can end the wait.
        let release = DispatchSemaphore(value: 0)
        let outcome = await LoadingDeadline.run(within: .milliseconds(20)) { () -> Int in
            release.wait()
            return 1
        }
        release.signal()
        guard case .expired = outcome else { Issue.record("the blocked work was waited for"); return }
    }

    @Test func theReportOfALoadingDeadlineIsInconclusiveAndSaysWhereLoadingWas() {
        let report = LoadingDeadline.report(
            references: ["backend", "runbooks/extra.yml"], all: false, folder: "runbooks", deadline: .seconds(2),
            progress: "parsing runbooks/huge.yml (file 3 of 9)", startedAt: Date(), elapsedMs: 2000)
        #expect(report.stopped == "deadline")
        #expect(report.exitStatus == .unknown)
        #expect(report.runbooks.map(\.id) == ["backend", "extra"])
        #expect(report.runbooks.allSatisfy { $0.diagnosis.id == Diagnosis.incompleteID && $0.path.isEmpty })
        #expect(report.runbooks[0].diagnosis.title == "Deadline of 2s reached while loading the runbooks")
        #expect(report.runbooks[0].diagnosis.explain.contains("parsing runbooks/huge.yml (file 3 of 9)"))
        let all = LoadingDeadline.report(
            references: [], all: true, folder: "runbooks", deadline: .seconds(2), progress: "starting",
            startedAt: Date(), elapsedMs: 2000)
        #expect(all.runbooks.map(\.id) == ["all"])
    }

    @Test(.timeLimit(.minutes(1)))
    func theRunGetsOnlyWhatLoadingLeftOfTheDeadline() async throws {
        let registry = ProbeRegistry.withFake()
        let prepared = [
            PreparedRunbook(try runbook(EngineTests.tree(id: "slow", delay: "20s"), registry: registry), inputs: [:])
        ]
        var stopping = engine(registry, deadline: .seconds(600))
        // Loading used all of it: the run must stop at once, not 20 s later when the probe ends, nor after 600 s.
        stopping.alreadySpent = .seconds(600)
        let report = await stopping.run(prepared)
        #expect(report.stopped == "deadline")
        #expect(report.runbooks.first?.diagnosis.id == Diagnosis.incompleteID)
        #expect(report.runbooks.first?.diagnosis.title.hasPrefix("Deadline of 10m reached") == true)
    }
}
