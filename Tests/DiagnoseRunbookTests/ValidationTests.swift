import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct ValidationTests {
    static let valid = """
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
          broken: { severity: critical, title: Broken }
        """

    @Test func aValidRunbookHasNoFindings() throws {
        let parsed = try runbook(Self.valid, file: "runbooks/fixture.yml")
        #expect(parsed.id == "fixture")
        #expect(parsed.steps.map(\.id) == ["check"])
        #expect(parsed.steps[0].timeout == .seconds(5))
        #expect(parsed.steps[0].next == [.pass: "fine", .fail: "broken"])
        #expect(parsed.diagnoses.map(\.severity) == [.ok, .critical])
    }

    @Test func everyFindingOfAFileIsReportedWithItsPosition() {
        let yaml = """
            title: Bad
            start: first
            steps:
              first:
                probe: comand
                timout: 2s
                on: { pass: second, fail: broken }
              second:
                probe: command
                with: { argv: [true], bogus: 1 }
                on: { pass: fine, fail: nowhere }
            diagnoses:
              fine: { severity: ok, title: OK }
              broken: { severity: bad, title: Broken }
            """
        #expect(
            findings(yaml, file: "bad.yml") == [
                "bad.yml:5:12: error: unknown probe kind 'comand' (did you mean 'command'?); known kinds: \(ProbeRegistry.standard.kinds.keys.sorted().joined(separator: ", "))",
                "bad.yml:6:5: error: unknown key 'timout' in step 'first' (did you mean 'timeout'?); allowed: title, probe, with, timeout, on",
                "bad.yml:10:27: error: unknown argument 'bogus' for probe 'command'; it accepts: \(ProbeKind.command.accepted.sorted().joined(separator: ", "))",
                "bad.yml:11:29: error: step 'second' goes to 'nowhere' on fail, which is neither a step nor a diagnosis",
                "bad.yml:14:23: error: unknown severity 'bad' for diagnosis 'broken'; use ok, warning or critical",
            ])
    }

    @Test func causeRoutesAreCheckedLikeOtherTargets() {
        let yaml = Self.valid.replacingOccurrences(
            of: "on: { pass: fine, fail: broken }", with: "on: { pass: fine, fail: { localhost: brokn } }")
        #expect(
            findings(yaml, file: "r.yml") == [
                "r.yml:8:29: error: 'on.fail' of step 'check' routes by cause but has no 'other:' for the remaining causes",
                "r.yml:8:42: error: step 'check' goes to 'brokn' on fail with cause localhost, which is neither a step nor a diagnosis (did you mean 'broken'?)",
            ])
    }

    @Test func unmappedErrorIsAllowed() throws {
        let parsed = try runbook(Self.valid)
        #expect(parsed.steps[0].next[.error] == nil)
    }

    @Test func runbookIDsMustBeUniqueAcrossFiles() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.valid.write(to: folder.appendingPathComponent("a.yml"), atomically: true, encoding: .utf8)
        try ("id: a\n" + Self.valid).write(
            to: folder.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        let catalog = RunbookCatalog.load([folder.path])
        #expect(catalog.runbooks.map(\.id) == ["a"])
        #expect(
            catalog.findings.map(\.description) == [
                "\(folder.path)/b.yml:1:5: error: runbook id 'a' is already used by \(folder.path)/a.yml; runbook ids must be unique"
            ])
    }

    @Test func theIDDefaultsToTheFileNameAndMayBeGiven() throws {
        #expect(try runbook(Self.valid, file: "x/worker-not-processing.yaml").id == "worker-not-processing")
        #expect(try runbook("id: custom\n" + Self.valid, file: "x/other.yml").id == "custom")
    }

    @Test func durationsParse() {
        #expect(Duration.parse("250ms") == .milliseconds(250))
        #expect(Duration.parse("2s") == .seconds(2))
        #expect(Duration.parse("1m") == .seconds(60))
        #expect(Duration.parse("1.5s") == .milliseconds(1500))
        #expect(Duration.parse("2") == nil)
        #expect(Duration.parse("s") == nil)
        #expect(Duration.parse("-1s") == nil)
        #expect(Duration.parse("2 s") == nil)
    }

    @Test func aHugeFolderAndAHugeRunbookValidate() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for index in 0..<1000 {
            try Self.valid.write(to: folder.appendingPathComponent("r\(index).yml"), atomically: false, encoding: .utf8)
        }
        var steps = ""
        let count = 10_000
        for index in 0..<count {
            let next = index + 1 < count ? "s\(index + 1)" : "fine"
            steps +=
                "  s\(index):\n    probe: env\n    with: { value: x, set: true }\n    on: { pass: \(next), fail: broken }\n"
        }
        let big =
            "title: Big\nstart: s0\nsteps:\n\(steps)diagnoses:\n  fine: { severity: ok, title: Fine }\n  broken: { severity: critical, title: Broken }\n"
        try big.write(to: folder.appendingPathComponent("big.yml"), atomically: false, encoding: .utf8)
        let catalog = RunbookCatalog.load([folder.path])
        #expect(catalog.runbooks.count == 1001)
        #expect(catalog.findings.isEmpty)
        #expect(catalog.runbook("big")?.steps.count == count)
    }

    @Test func aBadSignaturePatternIsReportedWhereItIsWritten() {
        let yaml = """
            title: Worker
            start: errors
            steps:
              errors:
                probe: log-errors
                with:
                  service: worker
                  signatures:
                    - { pattern: "Error 111", cause: broker-down, title: Broker down }
                    - pattern: "Error (111"
                      cause: broken
                on: { pass: fine, fail: broken }
            diagnoses:
              fine: { severity: ok, title: Fine }
              broken: { severity: critical, title: Broken }
            """
        let found = findings(yaml, file: "worker.yml")
        #expect(
            found.contains {
                $0.hasPrefix(
                    "worker.yml:10:20: error: step 'errors': argument 'signatures.1.pattern': is not a valid regular expression"
                )
            }, "\(found)")
    }
}
