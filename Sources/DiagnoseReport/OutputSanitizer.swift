/// The one way observed text reaches a person: every renderer (text, tree, Markdown) passes what it did not write
/// itself through here, so that nothing a log line, a body, a header or a reply carries can act on a terminal or
/// become markup. JSON needs none of this: its encoder escapes control characters.
///
/// - Control characters (C0 but the line breaks a layout allows, DEL, C1) and the invisible direction marks and
///   overrides (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) and line separators (U+2028-U+2029) are
///   shown as `\x1b` or `\u{202E}`, never emitted: no clipboard write (OSC 52), no cleared screen, no line drawn
///   over another, no text reordered to read differently from what it is.
/// - In Markdown every observed string is inert: prose has `\`, `` ` `` (unpaired), `<`, `>`, `&`, `[`, `]`, `*` and
///   a `_` that could delimit emphasis escaped, so no link, image or HTML element can come from it; code spans and
///   fenced blocks use a delimiter longer than any run of backticks inside, so they cannot be closed from inside.
public enum OutputSanitizer {
    /// Which whitespace control characters a piece of text may keep.
    public enum Layout: Sendable {
        /// One line: line breaks and tabs are shown as `\n`, `\r`, `\t`.
        case line
        /// Several lines: `\n` and `\t` are kept, every other control character is shown.
        case lines
    }

    /// The text with every control, direction or separator character shown as an escape (`\x1b`, `\u{202E}`).
    public static func visible(_ text: some StringProtocol, _ layout: Layout = .line) -> String {
        let scalars = text.unicodeScalars
        guard scalars.contains(where: { isUnsafe($0, layout) }) else { return String(text) }
        var out = String.UnicodeScalarView()
        for scalar in scalars {
            guard isUnsafe(scalar, layout) else {
                out.append(scalar)
                continue
            }
            let escape: String
            switch scalar {
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default:
                let hex = String(scalar.value, radix: 16)
                escape = scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex.uppercased())}"
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// Whether a scalar must not reach the output as itself.
    static func isUnsafe(_ scalar: Unicode.Scalar, _ layout: Layout) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: layout == .line
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    // MARK: Markdown

    /// Prose on one line, inert: the code spans it holds are kept (their content is literal in Markdown), everything
    /// else has the characters that could start markup escaped.
    public static func markdownText(_ value: String) -> String {
        var out = ""
        var rest = Substring(visible(value))
        while let open = rest.firstIndex(of: "`") {
            out += escapeMarkdown(rest[..<open])
            let run = rest[open...].prefix { $0 == "`" }
            let after = rest[run.endIndex...]
            // A code span closes at the next run of exactly as many backticks; without one the backticks are text.
            var search = after.startIndex
            var close: Range<Substring.Index>?
            while let found = after[search...].range(of: String(run)) {
                let next = after[found.upperBound...].first
                let previous = found.lowerBound > after.startIndex ? after[after.index(before: found.lowerBound)] : nil
                if next != "`" && previous != "`" {
                    close = found
                    break
                }
                search = after[found.lowerBound...].firstIndex { $0 != "`" } ?? after.endIndex
            }
            guard let close else {
                // Escaped, so that it cannot pair with a backtick of the text around it and open a span there.
                out += String(repeating: "\\`", count: run.count)
                rest = after
                continue
            }
            out += rest[open..<close.upperBound]
            rest = after[close.upperBound...]
        }
        return out + escapeMarkdown(rest)
    }

    /// Inline code that holds any text on one line: the delimiter outruns the backticks inside.
    public static func markdownCode(_ value: String) -> String {
        let flat = visible(value)
        let delimiter = String(repeating: "`", count: longestBacktickRun(flat) + 1)
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return delimiter + pad + flat + pad + delimiter
    }

    /// A fenced code block whose fence is longer than any run of backticks inside, so the content cannot close it.
    public static func markdownFence(_ content: String, info: String) -> String {
        let shown = visible(content, .lines)
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(shown) + 1))
        return "\(fence)\(info)\n\(shown.hasSuffix("\n") ? shown : shown + "\n")\(fence)\n"
    }

    /// A table row of cells already made inert; a pipe in a cell, even in a code span, is escaped so that it does not
    /// split the cell.
    public static func markdownRow(_ cells: [String]) -> String {
        "| "
            + cells.map { $0.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
            .joined(separator: " | ") + " |\n"
    }

    /// `&`, `<` and `>` as HTML entities.
    public static func escapeHTML(_ text: some StringProtocol) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Text outside code spans with every character that could start markup escaped.
    static func escapeMarkdown(_ text: Substring) -> String {
        var out = ""
        var previous: Character?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index) < text.endIndex ? text[text.index(after: index)] : nil
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "[", "]", "*": out += "\\\(character)"
            // A `_` between two letters or digits can neither open nor close emphasis (CommonMark's flanking rules).
            case "_" where !(isWordCharacter(previous) && isWordCharacter(next)): out += "\\_"
            default: out.append(character)
            }
            previous = character
            index = text.index(after: index)
        }
        return out
    }

    static func isWordCharacter(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character.isLetter || character.isNumber
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0
        var current = 0
        for character in text {
            current = character == "`" ? current + 1 : 0
            longest = max(longest, current)
        }
        return longest
    }
}
