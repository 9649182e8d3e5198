import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import DiagnoseTestSupport
import Testing

/// What `diagnose show` prints of a runbook never shows a secret.
@Suite struct TreeRendererTests {
    @Test func showMasksSecretInputs() throws {
        let yaml = """
            title: T
            inputs:
              api_key: ${GEMINI_API_KEY:-AIza-default-secret}
              token: literal-token-value
              url: redis://:pw-in-url@redis:6379/0
            start: s
            steps:
              s: { probe: env, with: { value: x, set: true }, on: { pass: d, fail: d } }
            diagnoses:
              d: { severity: ok, title: D }
            """
        let shown = TreeRenderer().text(try runbook(yaml))
        for secret in ["AIza-default-secret", "literal-token-value", "pw-in-url"] { #expect(!shown.contains(secret)) }
        #expect(shown.contains("api_key = ${GEMINI_API_KEY:-***}"))
    }
}
