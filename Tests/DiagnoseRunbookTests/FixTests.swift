import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// Fix entries: plain commands, or `{run: ..., changes: true}` for those that change the stack; warnings for those
/// that look state-changing but do not say.
@Suite struct FixTests {
    /// A runbook whose critical diagnosis has these fix entries (YAML list items), from line 15 on.
    static func runbookText(fix entries: [String]) -> String {
        """
        title: Fixture
        start: check
        steps:
          check:
            title: Check
            probe: env
            with: { value: "x", equals: "x" }
            on: { pass: fine, fail: broken }
        diagnoses:
          fine: { severity: ok, title: Fine }
          broken:
            severity: critical
            title: Broken
            fix:

        """ + entries.map { "      - \($0)\n" }.joined()
    }

    @Test func aFixIsAPlainCommandOrAMappingThatSaysItChangesTheStack() throws {
        let parsed = try runbook(
            Self.runbookText(
                fix: [
                    "docker compose ps worker", "{run: \"docker compose up -d worker\", changes: true}",
                    "run: docker compose logs worker\n        changes: false", "{run: \"docker compose top\"}",
                ]))
        let fix = try #require(parsed.diagnosis("broken")).fix
        #expect(
            fix == [
                Fix("docker compose ps worker"), Fix("docker compose up -d worker", changesStack: true),
                Fix("docker compose logs worker"), Fix("docker compose top"),
            ])
        #expect(parsed.unmarkedStateChanges.isEmpty)
    }

    @Test func aMalformedFixIsALocatedError() {
        let found = findings(
            Self.runbookText(
                fix: [
                    "{changes: true}", "{run: \"docker compose up -d\", changes: maybe}", "{run: \"x\", danger: true}",
                    "[a, b]",
                ]), file: "runbooks/fixture.yml")
        #expect(
            found == [
                "runbooks/fixture.yml:15:9: error: fix 1 of diagnosis 'broken' has no 'run'; write {run: COMMAND, changes: true} or a plain command",
                "runbooks/fixture.yml:16:48: error: 'changes' of fix 2 of diagnosis 'broken' must be true or false, found 'maybe'",
                "runbooks/fixture.yml:17:20: error: unknown key 'danger' in fix 3 of diagnosis 'broken'; allowed: run, changes",
                "runbooks/fixture.yml:18:9: error: fix 4 of diagnosis 'broken' must be text, found a list",
            ])
    }

    @Test(arguments: [
        ("docker compose up -d worker", "up"), ("docker compose restart backend", "restart"),
        ("docker rm -f diagnose-lab-worker", "rm"), ("docker compose down", "down"),
        ("docker kill redis", "kill"), ("docker compose stop worker", "stop"), ("docker compose start worker", "start"),
        ("docker compose unpause worker", "unpause"), ("docker compose up --force-recreate backend", "up"),
        ("docker compose exec redis redis-cli CONFIG SET maxmemory 1gb", "config set"),
    ])
    func aStateChangingCommandIsRecognised(command: String, word: String) {
        #expect(Fix(command).stateChangingWord == word)
    }

    @Test(arguments: [
        "docker compose ps worker", "docker compose logs --tail 50 upstream", "curl -s http://localhost:8050/ready",
        "docker compose exec redis redis-cli config get maxmemory", "diagnose backend-wont-start",
    ])
    func aReadOnlyCommandIsNot(command: String) {
        #expect(Fix(command).stateChangingWord == nil)
    }

    @Test func anUnmarkedStateChangingFixIsAWarningNotAnError() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = Self.runbookText(
            fix: [
                "docker compose ps worker", "docker compose up -d worker",
                "{run: \"docker compose restart worker\", changes: false}",
                "{run: \"docker compose stop worker\", changes: true}",
            ])
        try text.write(to: folder.appendingPathComponent("fixture.yml"), atomically: true, encoding: .utf8)
        let catalog = RunbookCatalog.load([folder.path])
        #expect(catalog.isValid)
        #expect(catalog.runbooks.map(\.id) == ["fixture"])
        #expect(
            catalog.warnings.map(\.description) == [
                "\(folder.path)/fixture.yml:16:9: warning: fix 'docker compose up -d worker' of diagnosis 'broken' "
                    + "looks like it changes the stack ('up'); write it as "
                    + "{run: \"docker compose up -d worker\", changes: true}, or changes: false if it only looks"
            ])
    }
}
