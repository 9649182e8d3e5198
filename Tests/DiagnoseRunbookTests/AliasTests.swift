import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// YAML anchors, aliases and merge keys are refused before anything is composed: the "billion laughs" bomb is one
/// located finding, and the other runbooks of its folder still load.
@Suite struct AliasTests {
    /// The bomb as the fuzz replay keeps it (`Fuzz/regressions/runbook/`, docs/fuzzing.md).
    static let bomb = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/runbook/alias-bomb-9-by-7.yml")

    @Test func theAliasBombIsOneLocatedFinding() throws {
        let text = try String(contentsOf: Self.bomb, encoding: .utf8)
        let (runbook, found) = RunbookLoader().parse(text, file: "runbooks/bomb.yml")
        #expect(runbook == nil)
        #expect(
            found.map(\.description) == [
                "runbooks/bomb.yml:9:10: error: YAML anchor '&a': runbooks do not take anchors, aliases or merge keys "
                    + "(a few of them can expand a small file into millions of values); write the value out where it is used"
            ])
    }

    @Test func anAliasWithoutItsAnchorAndAMergeKeyAreRefusedWhereTheyStand() {
        let alias = findings("title: *t\nstart: a\n")
        #expect(alias.count == 1)
        #expect(alias.first?.hasPrefix("test.yml:1:8: error: YAML alias '*t': runbooks do not take anchors") == true)
        let merge = findings("title: T\nbase: &base { probe: tcp }\nsteps:\n  a:\n    <<: *base\n")
        #expect(merge.count == 1)
        #expect(merge.first?.hasPrefix("test.yml:2:7: error: YAML anchor '&base'") == true)
    }

    @Test func anAmpersandOrAsteriskInsideValuesIsText() throws {
        let loaded = try runbook(
            """
            title: A && B *matter*
            start: a
            steps:
              a:
                title: "&quoted *too"
                probe: command
                with: { shell: "true && echo *" }
                on: { pass: ok, fail: ok }
            diagnoses:
              ok: { severity: ok, title: "x & y", fix: [echo a&b, "ls *"] }
            """)
        #expect(loaded.title == "A && B *matter*")
        #expect(loaded.steps.first?.title == "&quoted *too")
    }

    @Test func aBombCostsTheOtherRunbooksOfItsFolderNothing() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.bomb, to: folder.appendingPathComponent("bomb.yml"))
        try """
        title: Good
        start: a
        steps:
          a:
            title: True runs
            probe: command
            with: { shell: "true" }
            on: { pass: ok, fail: ok }
        diagnoses:
          ok: { severity: ok, title: Fine }
        """.write(to: folder.appendingPathComponent("good.yml"), atomically: true, encoding: .utf8)
        let catalog = RunbookCatalog.load([folder.path])
        #expect(catalog.runbooks.map(\.id) == ["good"])
        #expect(catalog.findings.count == 1)
        #expect(
            catalog.findings.first?.location == SourceLocation(file: folder.path + "/bomb.yml", line: 9, column: 10))
    }
}
