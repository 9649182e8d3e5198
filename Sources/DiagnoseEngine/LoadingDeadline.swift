import DiagnosePlatform
import DiagnoseReport
import DiagnoseRunbook
import Foundation

/// Loading the runbooks within the run's deadline. Loading is synchronous (file reads, YAML parsing), so it cannot
/// watch a clock itself: it runs on a thread of its own, and the caller waits for it at most until the deadline.
/// On expiry the caller goes on without it; the thread is abandoned, not stopped, and ends with the process.
public enum LoadingDeadline {
    /// How bounded work ended.
    public enum Outcome<Value: Sendable>: Sendable {
        /// The work finished (or threw) in time.
        case finished(Result<Value, any Error>)
        /// The limit passed first.
        case expired
    }

    /// Runs `work` on its own thread and waits for it up to `limit`.
    public static func run<Value: Sendable>(
        within limit: Duration, _ work: @escaping @Sendable () throws -> Value
    ) async -> Outcome<Value> {
        let outcome = OneShot<Outcome<Value>>()
        let thread = Thread { outcome.deliver(.finished(Result(catching: work))) }
        // Parsing a deeply nested runbook recurses; give the thread the main thread's usual room.
        thread.stackSize = 8 << 20
        thread.start()
        let timer = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled { outcome.deliver(.expired) }
        }
        let result = await outcome.value()
        timer.cancel()
        return result
    }

    /// The report of a run whose deadline passed while its runbooks were loading: nothing ran, every runbook asked
    /// for (or, with `--all`, the folder) ends inconclusive, saying where loading was.
    public static func report(
        references: [String], all: Bool, folder: String, deadline: Duration, progress: String, startedAt: Date,
        elapsedMs: Int
    ) -> RunReport {
        let diagnosis = Diagnosis(
            id: Diagnosis.incompleteID,
            title: "Deadline of \(deadline.shortDescription) reached while loading the runbooks",
            severity: .unknown,
            explain:
                "Loading the runbooks took longer than the --deadline, so no step ran; loading was \(progress). Rerun with a longer --deadline, or run `diagnose validate` to find the file that is slow to load."
        )
        let asked: [(id: String, title: String)] =
            all || references.isEmpty
            ? [(id: "all", title: "Every runbook in \(folder)")]
            : references.map { reference in
                RunbookCatalog.isFile(reference)
                    ? (id: RunbookLoader.defaultID(for: reference), title: reference)
                    : (id: reference, title: reference)
            }
        return RunReport(
            startedAt: Date(timeIntervalSince1970: startedAt.timeIntervalSince1970.rounded(.down)),
            durationMs: elapsedMs, stopped: "deadline",
            runbooks: asked.map {
                RunbookResult(id: $0.id, title: $0.title, diagnosis: diagnosis, path: [], durationMs: elapsedMs)
            }
        )
    }
}
