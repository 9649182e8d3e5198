import DiagnoseReport
import Foundation
import Testing

/// The one output sanitizer: control characters shown, never emitted; Markdown from observed text inert.
@Suite struct OutputSanitizerTests {
    @Test(arguments: [
        ("\u{1B}]52;c;cHduZWQ=\u{07}", #"\x1b]52;c;cHduZWQ=\x07"#),
        ("\u{1B}[2J", #"\x1b[2J"#),
        ("a\u{0}b\u{7F}c", #"a\x00b\x7fc"#),
        ("\u{9B}31m", #"\x9b31m"#),
        ("\u{202E}gnp.exe", #"\u{202E}gnp.exe"#),
        ("\u{2066}x\u{2069}", #"\u{2066}x\u{2069}"#),
        ("one\ntwo\r\tthree", #"one\ntwo\r\tthree"#),
        ("plain text, ünïcödé ✓", "plain text, ünïcödé ✓"),
    ])
    func controlCharactersAreShownOnOneLine(_ raw: String, _ shown: String) {
        #expect(OutputSanitizer.visible(raw) == shown)
    }

    @Test func severalLinesKeepLineFeedsAndTabsOnly() {
        #expect(OutputSanitizer.visible("a\n\tb\r\n\u{1B}c", .lines) == "a\n\tb\\r\n\\x1bc")
    }

    @Test func markdownProseHasNoLiveMarkup() {
        let shown = OutputSanitizer.markdownText(
            "[click](http://evil.example/) ![i](http://e/i.png) <b>bold</b> *em* _em_ a\\`b REDIS_URL &amp;")
        #expect(
            shown
                == #"\[click\](http://evil.example/) !\[i\](http://e/i.png) &lt;b&gt;bold&lt;/b&gt; \*em\* \_em\_ a\\\`b REDIS_URL &amp;amp;"#
        )
    }

    @Test func aCodeSpanOfTheAuthorIsKeptAndAnUnpairedBacktickCannotPairWithTheNextText() {
        #expect(OutputSanitizer.markdownText("run `docker compose ps` now") == "run `docker compose ps` now")
        // Unescaped, the lone backtick of the first would open a span closed by the second's, leaving `<img>` raw.
        let joined = OutputSanitizer.markdownText("a ` b") + " " + OutputSanitizer.markdownText("`<img src=x>`")
        #expect(joined == "a \\` b `<img src=x>`")
    }

    @Test func codeAndFencesCannotBeClosedFromInside() {
        #expect(OutputSanitizer.markdownCode("a``b") == "```a``b```")
        #expect(OutputSanitizer.markdownCode("`x") == "`` `x ``")
        let fence = OutputSanitizer.markdownFence("line\n`````\n<img src=x>\n", info: "text")
        #expect(fence == "``````text\nline\n`````\n<img src=x>\n``````\n")
        #expect(OutputSanitizer.markdownFence("\u{1B}[2J\ttab\n", info: "text") == "```text\n\\x1b[2J\ttab\n```\n")
    }

    @Test func aPipeNeverSplitsACell() {
        #expect(OutputSanitizer.markdownRow(["a|b", "`c|d`"]) == "| a\\|b | `c\\|d` |\n")
    }
}
