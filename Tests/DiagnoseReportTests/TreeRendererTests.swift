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

    /// A runbook's own text reaches the terminal through the output sanitizer too (its inputs can hold compose or
    /// `.env` values).
    @Test func showPrintsNoControlCharacter() throws {
        let yaml = """
            title: "T \\e]52;c;eA==\\a"
            inputs:
              note: "\\e[2J\\u202Ex"
            start: s
            steps:
              s: { title: "step \\e[31m", probe: env, with: { value: x, set: true }, on: { pass: d, fail: d } }
            diagnoses:
              d: { severity: ok, title: "done \\x9b" }
            """
        let shown = TreeRenderer().text(try runbook(yaml))
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) })
        #expect(!shown.unicodeScalars.contains("\u{202E}"))
        for visible in [#"T \x1b]52;c;eA==\x07"#, #"note = \x1b[2J\u{202E}x"#, #"step \x1b[31m"#, #"done \x9b"#] {
            #expect(shown.contains(visible), "\(visible)")
        }
        let chart = TreeRenderer().mermaid(try runbook(yaml))
        #expect(!chart.unicodeScalars.contains("\u{1B}"))
    }

    /// A chain of 10 000 and of 100 000 steps: drawn without recursion (no stack overflow), the indentation capped,
    /// so ten times the steps is about ten times the text.
    @Test func aLongChainIsDrawnIterativelyWithBoundedIndentation() throws {
        func chain(_ count: Int) throws -> String {
            var steps = ""
            for index in 0..<count {
                let next = index + 1 < count ? "s\(index + 1)" : "f"
                steps += "  s\(index): {probe: env, with: {value: x, set: true}, on: {pass: \(next), fail: b}}\n"
            }
            let yaml =
                "title: Chain\nstart: s0\nsteps:\n\(steps)diagnoses:\n  f: { severity: ok, title: Fine }\n"
                + "  b: { severity: critical, title: Broken }\n"
            return TreeRenderer().text(try runbook(yaml))
        }
        let small = try chain(10_000)
        let large = try chain(100_000)
        #expect(large.contains("[depth 99999] pass: s99999: s99999 [env, 5s]"))
        let longest = large.split(separator: "\n").map(\.utf8.count).max() ?? 0
        #expect(longest < 120)
        #expect(large.utf8.count < small.utf8.count * 11)
    }
}
