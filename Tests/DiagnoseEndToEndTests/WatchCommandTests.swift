import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `diagnose RUNBOOK --watch [INTERVAL]` through the binary, with command runbooks whose outcome flips.
@Suite struct WatchCommandTests {
    /// A runbook that fails until its command has run once: the second round finds it healed.
    static let healsOnSecondRun = commandRunbook("if [ -e seen ]; then touch flag; fi; touch seen; test -e flag")

    @Test func untilOKEndsWithExit0AndPrintsOnlyTheChanges() async throws {
        let folder = try workspace(["runbooks/flip.yml": Self.healsOnSecondRun])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["flip", "--watch", "10ms", "--until", "ok"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(run.stdout)")
        #expect(lines.first?.hasPrefix("round 1 at ") == true)
        #expect(lines.first?.hasSuffix(": CRITICAL (exit 2); open: failed (Failed)") == true)
        #expect(lines.last?.hasSuffix(": CRITICAL → OK (exit 0); resolved: failed (Failed)") == true)
        #expect(!run.stdout.contains("\u{1B}"), "no screen redraw off a terminal")
        #expect(run.stderr.contains("Every runbook is OK after 2 rounds: OK (exit 0)."))
    }

    @Test func aSignalEndsTheWatchWithTheLastRoundsStatus() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("echo round >> rounds; false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = try launch(["--all", "--watch", "10ms"], in: folder)
        let rounds = folder.appendingPathComponent("rounds").path
        let clock = ContinuousClock()
        let started = clock.now
        while clock.now < started + hangGuard {
            let count = ((try? String(contentsOfFile: rounds, encoding: .utf8)) ?? "").split(separator: "\n").count
            if count >= 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGINT)
        let run = await finish(process)
        #expect(run.status == 2, "\(run.stderr)")
        // Three rounds or more ran, and only the first had news.
        #expect(run.stdout.split(separator: "\n").count == 1, "\(run.stdout)")
        #expect(run.stdout.hasPrefix("round 1 at "))
        #expect(run.stderr.contains("Watch stopped after "))
        #expect(run.stderr.contains("; the last whole round: CRITICAL (exit 2)."))
    }

    @Test func watchWithoutAnIntervalWaitsFiveSecondsAndTakesTheNextArgumentAsARunbook() async throws {
        let folder = try workspace(["runbooks/green.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        // OK at once, so --until ok ends the watch before any wait.
        let run = await diagnose(["--watch", "green", "--until", "ok"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasSuffix(": OK (exit 0); no problems found\n"))
        let help = await diagnose(["run", "--help"], in: folder)
        #expect(help.stdout.contains("--watch [INTERVAL] runs the runbooks again INTERVAL (default 5s)"))
    }

    @Test(arguments: [
        (["green", "--until", "ok"], "--until ends a watch; add --watch [INTERVAL]"),
        (["green", "--watch", "1s", "--format", "json"], "--watch shows text; leave out --format json"),
        (["green", "--watch", "1s", "--output", "x"], "--watch prints to standard output; leave out --output"),
        (["green", "--watch=0s"], "--watch '0s' is not an interval"),
    ])
    func watchUsageErrorsExit64(arguments: [String], message: String) async throws {
        let folder = try workspace(["runbooks/green.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(arguments, in: folder)
        #expect(run.status == 64)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}
