import CProcessShim
import Foundation

/// Finds the lines of a text that match a pattern, as `grep` does.
///
/// When every match must contain some literal text, that literal is searched with `memmem` first and the
/// expression only confirms the lines it lands on; otherwise the expression runs once over the whole text.
/// Either way no `String` is made per line of the text.
public struct LineSearch: Sendable {
    /// The expression.
    public let pattern: Pattern
    /// Text every match contains, if the expression guarantees one.
    let literal: [UInt8]?
    /// Whether the expression is nothing but that literal, so a hit needs no confirmation.
    let literalIsWhole: Bool
    private let multiline: Box

    private final class Box: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
        let regex: NSRegularExpression
        init(_ regex: NSRegularExpression) { self.regex = regex }
    }

    /// Prepares a search for the pattern.
    public init(_ pattern: Pattern) {
        self.pattern = pattern
        let found = Self.requiredLiteral(in: pattern.source)
        literal = found.map { Array($0.text.utf8) }
        literalIsWhole = found?.whole ?? false
        // The source compiled once already as a Pattern, so it compiles again with the line option.
        multiline = Box(try! NSRegularExpression(pattern: pattern.source, options: [.anchorsMatchLines]))
    }

    /// The byte ranges (without the newline) of the lines that match, in order.
    public func matchingLines(in bytes: [UInt8]) -> [Range<Int>] {
        if let literal, !literal.isEmpty { return literalSearch(bytes, literal) }
        return expressionSearch(bytes)
    }

    private func literalSearch(_ bytes: [UInt8], _ literal: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            var position = 0
            literal.withUnsafeBytes { needle in
                while position < count,
                    let hit = cprocess_memmem(base + position, count - position, needle.baseAddress!, needle.count)
                {
                    let offset = hit - base
                    let line = Self.line(containing: offset, in: buffer)
                    if literalIsWhole || pattern.matches(String(decoding: buffer[line], as: UTF8.self)) {
                        lines.append(line)
                    }
                    position = line.upperBound + 1
                }
            }
        }
        return lines
    }

    private func expressionSearch(_ bytes: [UInt8]) -> [Range<Int>] {
        let text = String(decoding: bytes, as: UTF8.self)
        // Invalid UTF-8 was repaired while decoding, so offsets refer to the repaired bytes.
        let repaired = text.utf8.count == bytes.count ? bytes : Array(text.utf8)
        var lines: [Range<Int>] = []
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        repaired.withUnsafeBytes { buffer in
            multiline.regex.enumerateMatches(in: text, options: [], range: whole) { match, _, _ in
                guard let match, let range = Range(match.range, in: text) else { return }
                let offset = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
                if let last = lines.last, last.contains(offset) || last.upperBound == offset { return }
                lines.append(Self.line(containing: offset, in: buffer))
            }
        }
        return lines
    }

    /// The line around a byte offset, without its newline.
    static func line(containing offset: Int, in buffer: UnsafeRawBufferPointer) -> Range<Int> {
        let base = buffer.baseAddress!
        let start = offset == 0 ? 0 : (cprocess_memrchr(base, 10, offset).map { $0 - base + 1 } ?? 0)
        let end = memchr(base + offset, 10, buffer.count - offset).map { UnsafeRawPointer($0) - base } ?? buffer.count
        return start..<end
    }

    /// A literal every match of the expression contains, and whether the expression is only that literal.
    ///
    /// Conservative: nil for any top-level alternation or case-insensitive flag; groups, classes,
    /// escapes like `\d` and optional characters end a run of literal text; the longest run wins.
    static func requiredLiteral(in source: String) -> (text: String, whole: Bool)? {
        if source.contains("(?i") || source.contains("(?x") || source.contains("\\Q") { return nil }
        var runs: [String] = []
        var run = ""
        var whole = true
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = ""
        }
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "\\":
                guard index < characters.count else { return nil }
                let escaped = characters[index]
                index += 1
                if escaped.isLetter || escaped.isNumber {
                    whole = false
                    endRun()
                } else {
                    run.append(escaped)
                }
            case "[":
                whole = false
                endRun()
                if index < characters.count, characters[index] == "^" { index += 1 }
                if index < characters.count, characters[index] == "]" { index += 1 }
                while index < characters.count, characters[index] != "]" {
                    if characters[index] == "\\" { index += 1 }
                    index += 1
                }
                index += 1
            case "(":
                whole = false
                endRun()
                var depth = 1
                while index < characters.count, depth > 0 {
                    switch characters[index] {
                    case "\\": index += 1
                    case "(": depth += 1
                    case ")": depth -= 1
                    default: break
                    }
                    index += 1
                }
            case "|":
                return nil
            case "?", "*", "{":
                // The character before may be absent, so it leaves the run.
                whole = false
                if !run.isEmpty { run.removeLast() }
                endRun()
                if character == "{" {
                    while index < characters.count, characters[index] != "}" { index += 1 }
                    index += 1
                }
                if index < characters.count, characters[index] == "?" || characters[index] == "+" { index += 1 }
            case "+":
                whole = false
                endRun()
                if index < characters.count, characters[index] == "?" || characters[index] == "+" { index += 1 }
            case ".", "^", "$", ")":
                whole = false
                endRun()
            default:
                run.append(character)
            }
        }
        endRun()
        guard let longest = runs.max(by: { $0.utf8.count < $1.utf8.count }), longest.utf8.count >= 2 else { return nil }
        return (longest, whole && runs.count == 1)
    }
}
