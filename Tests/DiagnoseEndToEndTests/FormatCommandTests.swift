import DiagnosePlatform
import DiagnoseReport
import Foundation
import Testing

/// `--format junit|prometheus|nagios` and `--output` through the binary.
@Suite struct FormatCommandTests {
    @Test func nagiosExitsWithThePluginCodes() async throws {
        let folder = try workspace([
            "runbooks/green.yml": commandRunbook("true"),
            "runbooks/amber.yml": commandRunbook("false", fail: "warning"),
            "runbooks/red.yml": commandRunbook("false"),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let ok = await diagnose(["green", "--format", "nagios"], in: folder)
        #expect(ok.status == 0)
        #expect(ok.stdout.hasPrefix("DIAGNOSE OK - 1 of 1 runbook ok | runbooks=1 critical=0 warning=0 unknown=0 ok=1"))
        let warning = await diagnose(["green", "amber", "--format", "nagios"], in: folder)
        #expect(warning.status == 1)
        #expect(warning.stdout.hasPrefix("DIAGNOSE WARNING - 1 of 2 runbooks warning: amber (failed) |"))
        let critical = await diagnose(["--all", "--format", "nagios"], in: folder)
        #expect(critical.status == 2)
        #expect(critical.stdout.hasPrefix("DIAGNOSE CRITICAL - 1 of 3 runbooks critical: red (failed); "))
        #expect(critical.stdout.split(separator: "\n").count == 1)
    }

    @Test func nagiosAnswersUnknownWhenTheRunCannotStart() async throws {
        let folder = try workspace([
            "runbooks/broken.yml": "title: x\nstart: a\nsteps:\n  a:\n    probe: nope\n    on: { pass: z }\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let invalid = await diagnose(["--all", "--format", "nagios"], in: folder)
        #expect(invalid.status == 3)
        #expect(invalid.stdout == "DIAGNOSE UNKNOWN - invalid runbooks; run `diagnose validate`\n")
        #expect(invalid.stderr.contains("broken.yml"))
        let unknown = await diagnose(["nope", "--format", "nagios"], in: folder)
        #expect(unknown.status == 3)
        // Without nagios the same problems keep their own codes.
        #expect(await diagnose(["--all"], in: folder).status == 65)
    }

    @Test func outputWritesTheFormatToAFileAndReplacesIt() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("diagnose.prom")
        try "stale\n".write(to: file, atomically: true, encoding: .utf8)
        let run = await diagnose(["--all", "--format", "prometheus", "--output", file.path], in: folder)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let written = try String(contentsOf: file, encoding: .utf8)
        #expect(written.contains("diagnose_runbook_status{runbook=\"red\",status=\"critical\"} 1\n"))
        #expect(!written.contains("stale"))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }.isEmpty)
        let nowhere = await diagnose(
            ["--all", "--format", "prometheus", "--output", folder.appendingPathComponent("no/such.prom").path],
            in: folder)
        #expect(nowhere.status == 73)
        #expect(nowhere.stderr.contains("does not exist"))
    }

    @Test func junitIsOneSuitePerRunbook() async throws {
        let folder = try workspace([
            "runbooks/green.yml": commandRunbook("true"), "runbooks/red.yml": commandRunbook("echo boom; false"),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["--all", "--format", "junit"], in: folder)
        #expect(run.status == 2)
        #expect(run.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"diagnose\""))
        #expect(run.stdout.components(separatedBy: "<testsuite ").count == 3)
        #expect(run.stdout.contains("\nstdout: boom\nexit status 1</failure>"))
    }
}
