import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// Values inserted into `shell:` scripts and fix commands are quoted for POSIX sh; the validator refuses a
/// placeholder inside the author's own quotes there, and filters other than `raw`.
@Suite struct ShellQuotingTests {
    @Test func plainValuesStayBareAndOthersAreSingleQuoted() {
        #expect(Template.shellQuoted("http://127.0.0.1:8000") == "http://127.0.0.1:8000")
        #expect(Template.shellQuoted("") == "''")
        #expect(Template.shellQuoted("$(touch X)") == "'$(touch X)'")
        #expect(Template.shellQuoted("it's") == "'it'\\''s'")
        #expect(Template.shellQuoted("a b\nc") == "'a b\nc'")
        #expect(Template.shellQuoted("*") == "'*'")
    }

    @Test func shellQuotedValuesAreOneWordForARealShell() throws {
        for value in ["$(touch X)", "`id`", "a; b", "it's", "\"q\"", "line\nline", "*", "", "~", "x y", "\\"] {
            let script = "printf '%s' " + Template.shellQuoted(value)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(String(decoding: output, as: UTF8.self) == value)
        }
    }

    @Test func renderingQuotesOnlyWhenAskedAndNeverRaw() throws {
        let template = try Template("echo {{ v }}/x {{ v | raw }}")
        let inputs = ["v": "a b"]
        #expect(template.rendered(inputs) == "echo a b/x a b")
        #expect(template.rendered(inputs, quoting: .shell) == "echo 'a b'/x a b")
    }

    @Test func theShellContextOfEachPlaceholderIsKnown() throws {
        let template = try Template(#"a {{ x }} '{{ y }}' "b {{ z }}" \' {{ w }} "'" {{ u }}"#)
        #expect(template.shellContexts.map(\.quote) == [nil, "'", "\"", nil, nil])
    }

    @Test func aHereDocumentAndACommentAreKnown() throws {
        // After `<<` quoting cannot help; in a comment a placeholder is inert and an apostrophe opens no quote.
        let template = try Template("echo {{ a }} # it's {{ b }}\necho {{ c }}\ncat <<EOF\n{{ d }}\nEOF")
        #expect(template.shellContexts.map(\.name) == ["a", "c", "d"])
        #expect(template.shellContexts.map(\.quote) == [nil, nil, "<"])
    }

    @Test func aPlaceholderAfterAHereDocumentIsRefused() {
        let yaml = Self.runbook(shell: #""cat <<EOF\n{{ v }}\nEOF""#, fix: #""true""#)
        let found = findings(yaml, file: "q.yml")
        #expect(found.count == 1)
        #expect(found.first?.contains("follows a here-document (<<)") == true, "\(found)")
    }

    static func runbook(shell: String, fix: String) -> String {
        """
        title: Quoting
        inputs:
          v: x
        start: check
        steps:
          check:
            probe: command
            with: { shell: \(shell) }
            on: { pass: fine, fail: fine }
        diagnoses:
          fine: { severity: ok, title: Fine, fix: [\(fix)] }
        """
    }

    @Test func aPlaceholderInsideQuotesInShellTextIsRefusedWhereItIsWritten() {
        let yaml = Self.runbook(shell: #"'echo "{{ v }}"'"#, fix: #""printf '%s' '{{ v }}'""#)
        #expect(
            findings(yaml, file: "q.yml") == [
                "q.yml:8:20: error: '{{ v }}' is inside \"...\" quotes in a shell command; remove the quotes around it: the value is quoted for the shell when it is inserted",
                "q.yml:11:44: error: '{{ v }}' is inside '...' quotes in a shell command; remove the quotes around it: the value is quoted for the shell when it is inserted",
            ])
    }

    @Test func bareAndRawPlaceholdersInShellTextValidate() {
        let yaml = Self.runbook(shell: #"'echo {{ v }}; echo "{{ v | raw }}"'"#, fix: #""curl -s {{ v }}/health""#)
        #expect(findings(yaml, file: "q.yml") == [])
    }

    @Test func anUnknownFilterIsRefused() {
        let yaml = Self.runbook(shell: "'echo {{ v | upper }}'", fix: "ls")
        #expect(
            findings(yaml, file: "q.yml") == [
                "q.yml:8:20: error: '{{ v | upper }}' names the unknown filter 'upper'; the only filter is 'raw' ({{ v | raw }})"
            ])
    }
}
