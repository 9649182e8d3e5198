import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct InputTests {
    static let yaml = """
        title: Inputs
        inputs:
          redis_url: ${REDIS_URL:-redis://localhost:6379/0}
          model: ${GEMINI_MODEL}
          literal: plain $$HOME and $PATH
        start: check
        steps:
          check:
            probe: env
            with: { value: "{{ model }}", set: true }
            on: { pass: fine, fail: broken }
        diagnoses:
          fine: { severity: ok, title: "Model {{ model }} via {{ redis_url }}", fix: ["redis-cli -u {{ redis_url }} ping"] }
          broken: { severity: critical, title: Broken }
        """

    @Test func defaultsEnvironmentEnvFileAndOverridesApplyInOrder() throws {
        let parsed = try runbook(Self.yaml)
        let fromDefaults = try parsed.resolveInputs(InputSources(envFile: ["GEMINI_MODEL": "flash"]))
        #expect(
            fromDefaults == [
                "redis_url": "redis://localhost:6379/0", "model": "flash", "literal": "plain $HOME and $PATH",
            ])

        let fromEnvironment = try parsed.resolveInputs(
            InputSources(
                environment: ["REDIS_URL": "redis://redis:6379/1", "GEMINI_MODEL": "pro"],
                envFile: ["GEMINI_MODEL": "flash"]))
        #expect(fromEnvironment["redis_url"] == "redis://redis:6379/1")
        #expect(fromEnvironment["model"] == "pro")

        let overridden = try parsed.resolveInputs(
            InputSources(overrides: ["model": "set-by-flag"], environment: ["GEMINI_MODEL": "pro"]))
        #expect(overridden["model"] == "set-by-flag")
    }

    @Test func anEmptyVariableTakesTheDefault() throws {
        let parsed = try runbook(Self.yaml)
        let values = try parsed.resolveInputs(InputSources(environment: ["REDIS_URL": "", "GEMINI_MODEL": "m"]))
        #expect(values["redis_url"] == "redis://localhost:6379/0")
    }

    @Test func anUnsetVariableWithoutDefaultNamesTheVariableAndTheInput() throws {
        let parsed = try runbook(Self.yaml, file: "runbooks/inputs.yml")
        #expect(throws: InputError.self) { try parsed.resolveInputs(InputSources()) }
        do {
            _ = try parsed.resolveInputs(InputSources())
        } catch {
            #expect(error.location.description == "runbooks/inputs.yml:4:10")
            #expect(error.message.contains("input 'model' needs ${GEMINI_MODEL}, which is not set"))
            #expect(error.message.contains("--set model=VALUE"))
        }
    }

    @Test func templatesRenderInputs() throws {
        let template = try Template("redis-cli -u {{ redis_url }} -n {{db}} ping")
        #expect(template.names == ["redis_url", "db"])
        #expect(
            template.rendered(["redis_url": "redis://r:6379", "db": "2"]) == "redis-cli -u redis://r:6379 -n 2 ping")
        #expect(throws: Template.SyntaxError.self) { try Template("{{ unclosed") }
        #expect(throws: Template.SyntaxError.self) { try Template("{{ }}") }
    }

    @Test func envFileFollowsDotenvRules() throws {
        let text = """
            # a comment
            export GEMINI_API_KEY=abc123
            GEMINI_MODEL="gemini-1.5-flash"   # trailing comment
            SINGLE='raw $HOME \\n'
            ESCAPED="line1\\nline2"

            EMPTY=
            SPACED = value with spaces
            MULTI="first
            second"
            HASH=a#b
            """
        let values = try EnvFile(parsing: text).values
        #expect(values["GEMINI_API_KEY"] == "abc123")
        #expect(values["GEMINI_MODEL"] == "gemini-1.5-flash")
        #expect(values["SINGLE"] == "raw $HOME \\n")
        #expect(values["ESCAPED"] == "line1\nline2")
        #expect(values["EMPTY"] == "")
        #expect(values["SPACED"] == "value with spaces")
        #expect(values["MULTI"] == "first\nsecond")
        #expect(values["HASH"] == "a#b")
        #expect(values.count == 8)
    }

    @Test func envFileErrorsNameTheLine() {
        #expect(
            throws: EnvFile.ParseError(
                line: 2, message: "expected NAME=value (the line is not shown: it may hold a secret)")
        ) {
            try EnvFile(parsing: "A=1\nnot an assignment\n")
        }
        #expect(throws: EnvFile.ParseError(line: 1, message: "the quoted value of B is not closed")) {
            try EnvFile(parsing: "B=\"open\nstill open")
        }
        #expect(
            throws: EnvFile.ParseError(
                line: 1,
                message: "the text before '=' is not a variable name (letters, digits and _, not starting with a digit)"
            )
        ) {
            try EnvFile(parsing: "1X=2")
        }
    }
}
