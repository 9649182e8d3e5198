import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// Secrets planted in an env file, a compose file, a log and URLs must appear in no output format.
@Suite struct ReportRedactionTests {
    static let secrets = [
        "envfile-pw-4411", "AIzaFakeKey0099", "dburl-pw-7788", "compose-pw-5522", "compose-rp-6633", "logurl-pw-9900",
        "logtoken-1234abcd", "input-pw-3344", "cli-token-5566",
    ]

    static let runbookYAML = """
        id: leaky
        title: Leaky stack
        inputs:
          redis_url: ${REDIS_URL}
          api_token: ${API_TOKEN:-none}
        start: compose
        steps:
          compose:
            title: Compose file sets no password
            probe: command
            with: { argv: [cat, compose.yml], stdout_matches: "^$" }
            on: { pass: fine, fail: log }
          log:
            title: App log is clean
            probe: command
            with: { argv: [cat, app.log], stdout_matches: "^$" }
            on: { pass: fine, fail: url }
          url:
            title: Redis URL is the default
            probe: env
            with: { name: redis_url, value: "{{ redis_url }}", equals: "redis://localhost:6379/0" }
            on: { pass: fine, fail: leaked }
        diagnoses:
          fine: { severity: ok, title: Fine }
          leaked:
            severity: critical
            title: "Redis at {{ redis_url }} refuses the app"
            explain: "The app uses {{ redis_url }} with token {{ api_token }}."
            fix: ["redis-cli -u {{ redis_url }} ping", "curl --oauth2-bearer {{ api_token }} http://app/health"]
        """

    @Test func noPlantedSecretReachesMarkdownJSONOrText() async throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        services:
          mail:
            environment:
              SMTP_PASSWORD: compose-pw-5522
          redis:
            command: redis-server --requirepass compose-rp-6633
        """.write(to: folder.appendingPathComponent("compose.yml"), atomically: true, encoding: .utf8)
        try """
        INFO connecting to redis://:logurl-pw-9900@redis:6379/0
        DEBUG sending Authorization: Bearer logtoken-1234abcd
        WARN gemini rejected key AIzaFakeKey0099
        ERROR db postgres://app:dburl-pw-7788@db:5432/app unreachable, REDIS_PASSWORD=envfile-pw-4411
        """.write(to: folder.appendingPathComponent("app.log"), atomically: true, encoding: .utf8)
        try """
        REDIS_PASSWORD=envfile-pw-4411
        GEMINI_API_KEY=AIzaFakeKey0099
        DATABASE_URL=postgres://app:dburl-pw-7788@db:5432/app
        """.write(to: folder.appendingPathComponent("test.env"), atomically: true, encoding: .utf8)
        let runbooks = folder.appendingPathComponent("runbooks")
        try FileManager.default.createDirectory(at: runbooks, withIntermediateDirectories: true)
        try Self.runbookYAML.write(to: runbooks.appendingPathComponent("leaky.yml"), atomically: true, encoding: .utf8)
        let environment = ["REDIS_URL": "redis://:input-pw-3344@localhost:6379/0", "API_TOKEN": "cli-token-5566"]

        // As the CLI does: the plan learns from the env file, the environment and the resolved inputs, the engine
        // redacts the run where it makes it, and the plan redacts what the handoff report adds.
        let plan = try RunPlan(
            catalog: RunbookCatalog.load([runbooks.path]), references: ["leaky"], all: false, folder: runbooks.path,
            overrides: [:], envFile: folder.appendingPathComponent("test.env").path, environment: environment,
            workingDirectory: folder.path, deadline: .seconds(30))
        let run = await plan.engine.run(plan.prepared)
        #expect(run.runbooks.first?.diagnosis.id == "leaked")

        let metadata = HandoffReport.Metadata(
            generatedAt: Date(), host: "oncall-01", user: "alice", projectDirectory: folder.path,
            composeProject: "lab",
            command:
                "diagnose report --set redis_url=redis://:input-pw-3344@localhost:6379/0 --set api_token=cli-token-5566"
        )
        let previous = HandoffReport(run: run, metadata: metadata)
        let report = plan.handoff(run, metadata: metadata, previous: previous, previousPath: "old.json")
        let outputs = [
            "markdown": MarkdownRenderer().render(report, runbooks: plan.reportedRunbooks),
            "json": report.json(),
            "text": TextRenderer(verbose: true).render(report.run),
        ]
        for (format, output) in outputs {
            for secret in Self.secrets {
                #expect(!output.contains(secret), "\(format) shows \(secret)")
            }
            #expect(output.contains(Redactor.mask), "\(format) shows no mask, so the planted text did not reach it")
        }
        // The planted lines did reach the report, masked.
        #expect(outputs["markdown"]!.contains("redis://:***@redis:6379/0"))
        #expect(outputs["markdown"]!.contains("SMTP_PASSWORD: ***"))
    }
}
