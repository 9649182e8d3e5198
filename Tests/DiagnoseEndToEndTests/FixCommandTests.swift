import Foundation
import Testing

/// Fixes that change the stack through the binary: `validate` warns about unmarked ones and still exits 0, and a run
/// marks the marked ones.
@Suite struct FixCommandTests {
    static let runbook = commandRunbook("false").replacingOccurrences(
        of: "fix: [\"rerun it\"]",
        with: "fix: [\"docker compose ps worker\", \"docker compose restart worker\", "
            + "{run: \"docker compose up -d worker\", changes: true}]")

    @Test func validateWarnsAndStillExits0() async throws {
        let folder = try workspace(["runbooks/red.yml": Self.runbook])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["validate"], in: folder)
        #expect(run.status == 0)
        #expect(
            run.stderr.contains(
                "runbooks/red.yml:16:112: warning: fix 'docker compose restart worker' of diagnosis 'failed' looks like "
                    + "it changes the stack ('restart')"), "\(run.stderr)")
        #expect(!run.stderr.contains("'docker compose up -d worker' of diagnosis"))
        #expect(run.stderr.contains("1 runbook valid, 1 warning(s)."))
    }

    @Test func aRunMarksTheFixesThatChangeTheStack() async throws {
        let folder = try workspace(["runbooks/red.yml": Self.runbook])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["red"], in: folder)
        #expect(run.stdout.contains("      $ docker compose restart worker\n"))
        #expect(run.stdout.contains("      ! docker compose up -d worker  (changes the stack)\n"))
        let json = await diagnose(["red", "--format", "json"], in: folder)
        #expect(json.stdout.contains("\"changesStack\" : [\n"))
    }
}
