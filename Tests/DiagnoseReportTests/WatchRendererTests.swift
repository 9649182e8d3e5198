import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// The rounds of `--watch` as a log line of changes and as a redrawn screen, over the golden lab runs.
@Suite struct WatchRendererTests {
    let renderer = WatchRenderer(interval: .seconds(5))

    @Test func theFirstRoundNamesWhatIsOpen() throws {
        let round = WatchRound(number: 1, run: try ReportFixtures.run("redis-down"), previous: nil)
        #expect(round.hasNews)
        #expect(
            renderer.changes(round)
                == "round 1 at 06:42:11Z: CRITICAL (exit 2); open: redis-down (Redis is not running)\n")
        let healthy = WatchRound(number: 1, run: try ReportFixtures.run("healthy"), previous: nil)
        #expect(renderer.changes(healthy)?.hasSuffix(": OK (exit 0); no problems found\n") == true)
    }

    @Test func aHealedRoundSaysWhatWasResolved() throws {
        let before = try ReportFixtures.run("redis-down")
        let round = WatchRound(number: 4, run: try ReportFixtures.run("healthy"), previous: before)
        let line = try #require(renderer.changes(round))
        #expect(line.hasPrefix("round 4 at "))
        #expect(line.contains(": CRITICAL → OK (exit 0); resolved: redis-down (Redis is not running)\n"))
    }

    @Test func aRoundThatChangedNothingPrintsNothing() throws {
        let run = try ReportFixtures.run("redis-down")
        let round = WatchRound(number: 2, run: run, previous: run)
        #expect(!round.hasNews)
        #expect(renderer.changes(round) == nil)
    }

    @Test func newAndStillOpenFindingsAreNamed() throws {
        let line = try #require(
            renderer.changes(
                WatchRound(
                    number: 2, run: try ReportFixtures.run("frontend-backend-url"),
                    previous: try ReportFixtures.run("redis-down"))))
        let changes = try #require(
            WatchRound(
                number: 2, run: try ReportFixtures.run("frontend-backend-url"),
                previous: try ReportFixtures.run("redis-down")
            ).changes)
        for entry in changes.new { #expect(line.contains("new: \(entry.key) (") || line.contains(", \(entry.key) (")) }
        #expect(line.contains("resolved: redis-down") == changes.resolved.contains { $0.key == "redis-down" })
    }

    @Test func theScreenIsRedrawnWholeWithALinePerRunbook() throws {
        let run = try ReportFixtures.run("redis-down")
        let screen = renderer.screen(WatchRound(number: 3, run: run, previous: run))
        #expect(screen.hasPrefix(WatchRenderer.clearScreen + "diagnose --watch 5s · round 3 · 06:42:11 UTC · CRITICAL"))
        let lines = screen.split(separator: "\n")
        #expect(lines.count == 1 + run.runbooks.count + 1)
        #expect(lines.contains { $0.hasPrefix("  ✗ backend-wont-start ") && $0.hasSuffix("[redis-down]") })
        #expect(lines.last == "still open: redis-down (Redis is not running)")
        // Without colour the screen still redraws (the CLI decides when it may), but carries no other escape.
        #expect(screen.dropFirst(WatchRenderer.clearScreen.count).contains("\u{1B}") == false)
    }
}
