import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Testing

/// `diagnose report` through the built binary: files, refusals, exit codes, redaction and interruption.
@Suite(.serialized) struct ReportCommandTests {
    static let runbooks = [
        "cache.yml": """
        id: cache
        title: Cache answers
        inputs:
          project: ${COMPOSE_PROJECT_NAME:-}
        start: ping
        steps:
          ping:
            title: Cache answers PING
            probe: command
            with: { shell: "cat cache.state" , stdout_matches: "^up" }
            on: { pass: cache-up, fail: cache-down }
        diagnoses:
          cache-up: { severity: ok, title: Cache is up }
          cache-down: { severity: critical, title: Cache is down, fix: ["docker compose up -d cache"] }
        """,
        "api.yml": """
        id: api
        title: API answers
        start: cache
        steps:
          cache:
            title: Cache answers PING
            probe: command
            with: { shell: "cat cache.state" , stdout_matches: "^up" }
            on: { pass: api-up, fail: cache-down }
        diagnoses:
          api-up: { severity: ok, title: API is up }
          cache-down: { severity: critical, title: Cache is down }
        """,
    ]

    /// A project folder with the runbooks and the cache in the given state.
    func project(cache: String) throws -> URL {
        let folder = try temporaryFolder()
        for (name, text) in Self.runbooks { try plant(text, at: "runbooks/\(name)", in: folder) }
        try plant(cache + "\n", at: "cache.state", in: folder)
        return folder
    }

    func requireBinary() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first: \(diagnoseBinary)")
    }

    @Test func writesMarkdownAndJSONAndExitsWithTheRunStatus() async throws {
        try requireBinary()
        let folder = try project(cache: "down")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await runReportBinary(["report", "--output", "handoff.md"], in: folder)
        #expect(result.status == 2, "\(result.stderr)")
        let markdown = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("# Handoff: 🔴 CRITICAL on "))
        #expect(markdown.contains("Diagnosis `cache-down`, seen by `api`, `cache`: a shared root cause."))
        #expect(markdown.contains("- [ ] `docker compose up -d cache`"))
        let report = try HandoffReport.decode(Data(contentsOf: folder.appendingPathComponent("handoff.json")))
        #expect(report.run.status == .critical)
        #expect(report.findings.map(\.key) == ["cache-down"])
        // The folder name, normalised as Compose does, names the project when nothing else does.
        #expect(
            report.metadata.composeProject
                == folder.lastPathComponent.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        )
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["cache.state", "handoff.json", "handoff.md", "runbooks"])
    }

    @Test func theDefaultNameCarriesAUTCTimestamp() async throws {
        try requireBinary()
        let folder = try project(cache: "up")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await runReportBinary(["report", "cache"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasPrefix("diagnose-report-")
        }.sorted()
        #expect(names.count == 2)
        #expect(names.first?.wholeMatch(of: /diagnose-report-\d{8}T\d{6}Z\.json/) != nil)
        #expect(names.last?.wholeMatch(of: /diagnose-report-\d{8}T\d{6}Z\.md/) != nil)
    }

    @Test func refusesToOverwriteWithoutForce() async throws {
        try requireBinary()
        let folder = try project(cache: "up")
        defer { try? FileManager.default.removeItem(at: folder) }
        try plant("keep me\n", at: "handoff.json", in: folder)
        let refused = try await runReportBinary(["report", "--output", "handoff.md"], in: folder)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--force"))
        #expect(refused.stderr.contains("handoff.json"))
        #expect(try String(contentsOf: folder.appendingPathComponent("handoff.json"), encoding: .utf8) == "keep me\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("handoff.md").path))

        let forced = try await runReportBinary(["report", "--output", "handoff.md", "--force"], in: folder)
        #expect(forced.status == 0, "\(forced.stderr)")
        let report = try HandoffReport.decode(Data(contentsOf: folder.appendingPathComponent("handoff.json")))
        #expect(report.run.status == .ok)
    }

    @Test func anUnwritableFolderExits73() async throws {
        try requireBinary()
        let folder = try project(cache: "up")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Root writes anywhere but into /sys; others are stopped by the folder's permissions.
        let unwritable: String
        if geteuid() == 0 {
            unwritable = "/sys"
        } else {
            let locked = folder.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
            unwritable = locked.path
        }
        let result = try await runReportBinary(["report", "--output", "\(unwritable)/handoff.md"], in: folder)
        #expect(result.status == 73)
        #expect(result.stderr.contains("cannot"))
        #expect(result.stderr.contains(unwritable))
    }

    @Test func sinceComparesWithThePreviousReportAndRejectsOtherFiles() async throws {
        try requireBinary()
        let folder = try project(cache: "down")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try await runReportBinary(["report", "--output", "first.md"], in: folder).status == 2)
        try plant("up\n", at: "cache.state", in: folder)
        let second = try await runReportBinary(["report", "--since", "first.json", "--output", "-"], in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("## Since the previous report"))
        #expect(second.stdout.contains("**Resolved**\n\n- Cache is down `cache-down` (critical)"))

        let run = try await runReportBinary(["--all", "--format", "json"], in: folder)
        try plant(run.stdout, at: "run.json", in: folder)
        for (file, words) in [
            ("run.json", "diagnose.run/v1"), ("first.md", "is not JSON"), ("missing.json", "cannot be read"),
        ] {
            let rejected = try await runReportBinary(["report", "--since", file, "--output", "-"], in: folder)
            #expect(rejected.status == 64, "\(file)")
            #expect(rejected.stderr.contains(file) && rejected.stderr.contains(words), "\(rejected.stderr)")
        }
    }

    @Test func standardOutputTakesEitherFormat() async throws {
        try requireBinary()
        let folder = try project(cache: "up")
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = try await runReportBinary(["report", "--output", "-", "--format", "json"], in: folder)
        #expect(json.status == 0)
        #expect(try HandoffReport.decode(Data(json.stdout.utf8)).run.runbooks.count == 2)
        let markdown = try await runReportBinary(["report", "--output", "-"], in: folder)
        #expect(markdown.stdout.hasPrefix("# Handoff: 🟢 OK on "))
        let misplaced = try await runReportBinary(["report", "--format", "json"], in: folder)
        #expect(misplaced.status == 64)
        #expect(misplaced.stderr.contains("--output -"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["cache.state", "runbooks"])
    }

    @Test func plantedSecretsAppearInNoOutput() async throws {
        try requireBinary()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let secrets = [
            "envfile-pw-4411", "compose-pw-5522", "compose-rp-6633", "logurl-pw-9900", "logtoken-1234abcd",
            "set-pw-3344", "env-token-7788",
        ]
        try plant("REDIS_PASSWORD=envfile-pw-4411\nCOMPOSE_PROJECT_NAME=shop\n", at: ".env", in: folder)
        try plant(
            "services:\n  mail:\n    environment:\n      SMTP_PASSWORD: compose-pw-5522\n  redis:\n    command: redis-server --requirepass compose-rp-6633\n",
            at: "compose.yml", in: folder)
        try plant(
            "connecting to redis://:logurl-pw-9900@redis:6379/0\nAuthorization: Bearer logtoken-1234abcd\nauth failed with envfile-pw-4411\n",
            at: "app.log", in: folder)
        try plant(
            """
            id: leaky
            title: Leaky
            inputs:
              redis_url: redis://localhost:6379/0
              token: ${APP_TOKEN:-}
            start: compose
            steps:
              compose:
                title: Compose file is clean
                probe: command
                with: { argv: [cat, compose.yml], stdout_matches: "^$" }
                on: { pass: fine, fail: log }
              log:
                title: Log is clean
                probe: command
                with: { argv: [cat, app.log], stdout_matches: "^$" }
                on: { pass: fine, fail: url }
              url:
                title: Redis URL is the default
                probe: env
                with: { value: "{{ redis_url }}", equals: "redis://localhost:6379/0" }
                on: { pass: fine, fail: leaked }
            diagnoses:
              fine: { severity: ok, title: Fine }
              leaked: { severity: critical, title: "Leaked {{ redis_url }}", fix: ["redis-cli -u {{ redis_url }} ping --token {{ token }}"] }
            """, at: "runbooks/leaky.yml", in: folder)
        let arguments = ["--set", "redis_url=redis://:set-pw-3344@redis:6379/0"]
        let environment = ["APP_TOKEN": "env-token-7788"]
        let written = try await runReportBinary(
            ["report", "--output", "out.md"] + arguments, in: folder, environment: environment)
        #expect(written.status == 2, "\(written.stderr)")
        let outputs = [
            "markdown": try String(contentsOf: folder.appendingPathComponent("out.md"), encoding: .utf8),
            "json": try String(contentsOf: folder.appendingPathComponent("out.json"), encoding: .utf8),
            "stdout json": try await runReportBinary(
                ["report", "--output", "-", "--format", "json"] + arguments, in: folder, environment: environment
            ).stdout,
            "text": try await runReportBinary(["--all", "--verbose"] + arguments, in: folder, environment: environment)
                .stdout,
            "run json": try await runReportBinary(
                ["--all", "--format", "json"] + arguments, in: folder, environment: environment
            )
            .stdout,
        ]
        for (format, output) in outputs {
            #expect(output.contains("***"), "\(format): \(output)")
            for secret in secrets { #expect(!output.contains(secret), "\(format) shows \(secret)") }
        }
        #expect(outputs["markdown"]!.contains("`shop`"), "the compose project comes from the .env file")
    }

    @Test func anInterruptedReportIsStillWrittenAndMarked() async throws {
        try requireBinary()
        let folder = try project(cache: "up")
        defer { try? FileManager.default.removeItem(at: folder) }
        try plant(
            """
            id: slow
            title: Slow check
            start: wait
            steps:
              wait:
                title: Waits a long time
                probe: command
                with: { shell: "touch started; sleep 30" }
                timeout: 60s
                on: { pass: done, fail: done }
            diagnoses:
              done: { severity: ok, title: Done }
            """, at: "runbooks/slow.yml", in: folder)
        let process = try launch(["report", "--output", "handoff.md", "--deadline", "2m"], in: folder)
        let started = folder.appendingPathComponent("started").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: started) {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(FileManager.default.fileExists(atPath: started))
        kill(process.processIdentifier, SIGINT)
        let result = await finish(process)
        #expect(result.status == 3, "\(result.stderr)")
        let markdown = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
        #expect(markdown.contains("**Interrupted.**"))
        let report = try HandoffReport.decode(Data(contentsOf: folder.appendingPathComponent("handoff.json")))
        #expect(report.run.stopped == "interrupted")
        #expect(report.run.runbooks.first { $0.id == "slow" }?.diagnosis.id == "interrupted")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}

/// "Run by" with nothing in the environment: the binary asks the password database.
@Suite struct RunByTests {
    @Test func aClearedEnvironmentStillNamesTheUser() async throws {
        let folder = try workspace(["runbooks/green.yml": commandRunbook("true")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let id = await ProcessRunner.run(["id", "-un"], environment: [:], timeout: .seconds(60))
        let user = id.stdout.trimmingWhitespace()
        #expect(!user.isEmpty)
        let run = await ProcessRunner.run(
            [diagnoseBinary, "report", "--output", "-", "--format", "json"], environment: [:],
            workingDirectory: folder.path, timeout: .seconds(60))
        #expect(run.exitStatus == 0, "\(run.stderr)")
        let report = try HandoffReport.decode(Data(run.stdout.utf8))
        #expect(report.metadata.user == user)
        let sudo = await ProcessRunner.run(
            [diagnoseBinary, "report", "--output", "-"], environment: ["SUDO_USER": "alice", "USER": "root"],
            workingDirectory: folder.path, timeout: .seconds(60))
        #expect(sudo.stdout.contains("- **Run by:** `alice`\n"))
    }
}
