import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// The built `diagnose` binary next to this package's build products.
let diagnoseBinary: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    for configuration in ["debug", "release"] {
        let path = root.appendingPathComponent(".build/\(configuration)/diagnose").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return root.appendingPathComponent(".build/debug/diagnose").path
}()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the binary with arguments, in a folder, with extra environment.
func diagnose(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:]) async -> Run {
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env.removeValue(forKey: "DIAGNOSE_RUNBOOKS")
    for (key, value) in environment { env[key] = value }
    let result = await ProcessRunner.run(
        [diagnoseBinary] + arguments, environment: env, workingDirectory: folder?.path, timeout: .seconds(60),
        captureLimit: 4 * 1024 * 1024)
    return Run(status: result.exitStatus ?? -1, stdout: result.stdout, stderr: result.stderr)
}

/// A folder with a runbooks/ subfolder holding the given files.
func workspace(_ files: [String: String]) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
        at: folder.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
    for (name, text) in files {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return folder
}

/// A runbook whose single command step passes or fails, ending in a diagnosis of the given severities.
func commandRunbook(
    _ shell: String, pass: String = "ok", fail: String = "critical", timeout: String = "5s", extra: String = ""
) -> String {
    """
    title: Runbook running \(shell)
    description: Runs a command.
    inputs:
      word: ${WORD:-hello}
    \(extra)
    start: check
    steps:
      check:
        title: The command succeeds
        probe: command
        with: { shell: "\(shell)" }
        timeout: \(timeout)
        on: { pass: passed, fail: failed }
    diagnoses:
      passed: { severity: \(pass), title: "Passed {{ word }}", fix: ["echo {{ word }}"] }
      failed: { severity: \(fail), title: Failed, explain: The command failed., fix: ["rerun it"] }
    """
}

@Suite struct CLITests {
    @Test func exitCodesFollowTheWorstDiagnosis() async throws {
        let folder = try workspace([
            "runbooks/green.yml": commandRunbook("true"),
            "runbooks/amber.yml": commandRunbook("false", fail: "warning"),
            "runbooks/red.yml": commandRunbook("false"),
            "runbooks/lost.yml": commandRunbook("sleep 5", timeout: "100ms").replacingOccurrences(
                of: "fail: failed", with: "fail: failed, error: failed"
            ).replacingOccurrences(of: "probe: command", with: "probe: command"),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(await diagnose(["green"], in: folder).status == 0)
        #expect(await diagnose(["amber"], in: folder).status == 1)
        #expect(await diagnose(["red"], in: folder).status == 2)
        #expect(await diagnose(["green", "amber"], in: folder).status == 1)
        #expect(await diagnose(["--all"], in: folder).status == 2)
        let deadline = await diagnose(["lost", "--deadline", "50ms"], in: folder)
        #expect(deadline.status == 3)
        #expect(deadline.stdout.contains("incomplete"))
        #expect(await diagnose(["nope"], in: folder).status == 64)
        #expect(await diagnose(["--deadline", "soon", "green"], in: folder).status == 64)
    }

    @Test func anInvalidRunbookExits65WithLocatedFindings() async throws {
        let folder = try workspace([
            "runbooks/broken.yml":
                "title: x\nstart: a\nsteps:\n  a:\n    probe: nope\n    on: { pass: z, fail: z }\ndiagnoses:\n  z: { severity: ok, title: Z }\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["validate"], in: folder)
        #expect(run.status == 65)
        #expect(run.stderr.contains("runbooks/broken.yml:5:12: error: unknown probe kind 'nope'"))
        #expect(await diagnose(["--all"], in: folder).status == 65)
    }

    /// The alias bomb the fuzz replay keeps: refused at its first anchor, located; `list` still lists the others.
    @Test func anAliasBombIsRefusedAndTheOtherRunbooksAreListed() async throws {
        let bomb = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/runbook/alias-bomb-9-by-7.yml")
        let folder = try workspace([
            "runbooks/green.yml": commandRunbook("true"),
            "runbooks/bomb.yml": try String(contentsOf: bomb, encoding: .utf8),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let list = await diagnose(["list"], in: folder)
        #expect(list.status == 65)
        #expect(list.stdout.contains("green  Runbook running true"))
        #expect(list.stderr.contains("runbooks/bomb.yml:9:10: error: YAML anchor '&a': runbooks do not take anchors"))
        #expect(await diagnose(["green"], in: folder).status == 65)
        let validate = await diagnose(["validate", "runbooks/green.yml"], in: folder)
        #expect(validate.status == 0, "\(validate.stderr)")
    }

    @Test func anUnknownRunbookListsTheKnownOnes() async throws {
        let folder = try workspace(["runbooks/backend-wont-start.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["backend-wont-strat"], in: folder)
        #expect(run.status == 64)
        #expect(run.stderr.contains("unknown runbook 'backend-wont-strat'"))
        #expect(run.stderr.contains("backend-wont-start"))
    }

    @Test func anUnsetVariableIsAnErrorBeforeAnythingRuns() async throws {
        let folder = try workspace([
            "runbooks/needs.yml": commandRunbook("touch ran", extra: "  model: ${GEMINI_MODEL_FOR_TEST}")
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["needs"], in: folder)
        #expect(run.status == 64)
        #expect(run.stderr.contains("input 'model' needs ${GEMINI_MODEL_FOR_TEST}"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("ran").path))
        #expect(await diagnose(["needs", "--set", "model=x"], in: folder).status == 0)
        let envFile = folder.appendingPathComponent("custom.env")
        try "GEMINI_MODEL_FOR_TEST=flash\n".write(to: envFile, atomically: true, encoding: .utf8)
        #expect(await diagnose(["needs", "--env-file", envFile.path], in: folder).status == 0)
        try "export GEMINI_MODEL_FOR_TEST='from dotenv'\n".write(
            to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        #expect(await diagnose(["needs"], in: folder).status == 0)
        #expect(await diagnose(["needs", "--set", "unknown=1"], in: folder).status == 64)
    }

    @Test func setAndEnvironmentReachTheDiagnosis() async throws {
        let folder = try workspace(["runbooks/greet.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(await diagnose(["greet"], in: folder).stdout.contains("Passed hello"))
        #expect(await diagnose(["greet"], in: folder, environment: ["WORD": "env"]).stdout.contains("Passed env"))
        #expect(
            await diagnose(["greet", "--set", "word=flag"], in: folder, environment: ["WORD": "env"]).stdout.contains(
                "$ echo flag"))
    }

    @Test func jsonIsTheRunContract() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("echo boom >&2; false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["--all", "--format", "json"], in: folder)
        #expect(run.status == 2)
        let report = try RunReport.decode(Data(run.stdout.utf8))
        #expect(report.schema == "diagnose.run/v1")
        #expect(report.status == .critical)
        let result = try #require(report.runbooks.first)
        #expect(result.diagnosis.id == "failed")
        #expect(result.path.first?.cause == "exit-status")
        #expect(result.path.first?.evidence.contains("stderr: boom") == true)
        #expect(!run.stdout.contains("\u{1B}["))
    }

    @Test func textShowsPathDiagnosisAndFixWithoutColourWhenNotATerminal() async throws {
        let folder = try workspace(["runbooks/red.yml": commandRunbook("false")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["red"], in: folder)
        #expect(run.stdout.contains("✗ The command succeeds"))
        #expect(run.stdout.contains("⇒ CRITICAL Failed"))
        #expect(run.stdout.contains("$ rerun it"))
        #expect(!run.stdout.contains("\u{1B}["))
    }

    @Test func listShowAndHelp() async throws {
        let folder = try workspace(["runbooks/green.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let list = await diagnose(["list"], in: folder)
        #expect(list.stdout.contains("green  Runbook running true"))
        let show = await diagnose(["show", "green", "--format", "mermaid"], in: folder)
        #expect(show.stdout.hasPrefix("flowchart TD"))
        #expect(show.stdout.contains("s_check -->|fail| d_failed"))
        let tree = await diagnose(["show", "green"], in: folder)
        #expect(tree.stdout.contains("fail: ⇒ failed [critical]: Failed"))
        let help = await diagnose(["--help"])
        #expect(help.stdout.contains("$ diagnose --all"))
        #expect(help.stdout.contains("64 usage error"))
    }

    @Test func theShippedRunbooksAreValid() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let run = await diagnose(["validate", root.appendingPathComponent("runbooks").path])
        #expect(run.status == 0, "\(run.stderr)")
    }
}
