import CProcessShim
import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Finds the lines of a text that match a pattern, as `grep` does.
///
/// When every match must contain one of a few literal texts (one per top-level alternative, ASCII case folded
/// under a leading `(?i)`), those literals are searched with `memmem` first and the expression only confirms the
/// lines they land on; otherwise the expression runs once over the whole text. Either way no `String` is made per
/// line of the text.
public struct LineSearch: Sendable {
    /// The expression.
    public let pattern: Pattern
    /// What every match contains, if the expression guarantees it.
    let prefilter: Prefilter?
    private let multiline: Box

    private final class Box: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
        let regex: NSRegularExpression
        init(_ regex: NSRegularExpression) { self.regex = regex }
    }

    /// Literals one of which every match contains.
    struct Prefilter: Sendable, Hashable {
        /// One literal per alternative, lowercased when `foldsCase`.
        var literals: [String]
        /// Whether the expression is nothing but these literals, so a hit needs no confirmation.
        var whole: Bool
        /// Whether the expression ignores case, so the text is searched ASCII-lowercased.
        var foldsCase: Bool
    }

    /// Prepares a search for the pattern.
    public init(_ pattern: Pattern) {
        self.pattern = pattern
        prefilter = Self.prefilter(for: pattern.source)
        // The source compiled once already as a Pattern, so it compiles again with the line option.
        multiline = Box(try! NSRegularExpression(pattern: pattern.source, options: [.anchorsMatchLines]))
    }

    /// The byte ranges (without the newline) of the lines that match, in order.
    public func matchingLines(in bytes: [UInt8]) -> [Range<Int>] {
        bytes.withUnsafeBytes { matchingLines(in: $0) }
    }

    /// The byte ranges (without the newline) of the lines of the buffer that match, in order.
    public func matchingLines(in buffer: UnsafeRawBufferPointer) -> [Range<Int>] {
        guard buffer.count > 0 else { return [] }
        if let prefilter { return literalSearch(buffer, prefilter) }
        return expressionSearch(buffer)
    }

    private func literalSearch(_ bytes: UnsafeRawBufferPointer, _ prefilter: Prefilter) -> [Range<Int>] {
        var candidates: [Range<Int>] = []
        func search(_ buffer: UnsafeRawBufferPointer) {
            let base = buffer.baseAddress!
            for literal in prefilter.literals {
                var position = 0
                let needle = Array(literal.utf8)
                needle.withUnsafeBytes { needle in
                    while position < buffer.count,
                        let hit = cprocess_memmem(
                            base + position, buffer.count - position, needle.baseAddress!, needle.count)
                    {
                        let line = Self.line(containing: hit - base, in: buffer)
                        candidates.append(line)
                        position = line.upperBound + 1
                    }
                }
            }
        }
        if prefilter.foldsCase {
            Self.asciiLowercased(bytes).withUnsafeBytes(search)
        } else {
            search(bytes)
        }
        if prefilter.literals.count > 1 {
            candidates.sort { $0.lowerBound < $1.lowerBound }
            candidates = candidates.enumerated().filter { $0.offset == 0 || candidates[$0.offset - 1] != $0.element }
                .map(\.element)
        }
        if prefilter.whole { return candidates }
        return candidates.filter { pattern.matches(String(decoding: bytes[$0], as: UTF8.self)) }
    }

    private func expressionSearch(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        let text = String(decoding: bytes, as: UTF8.self)
        // Invalid UTF-8 was repaired while decoding, so offsets refer to the repaired bytes.
        let repaired = text.utf8.count == bytes.count ? nil : Array(text.utf8)
        var lines: [Range<Int>] = []
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        func collect(_ buffer: UnsafeRawBufferPointer) {
            multiline.regex.enumerateMatches(in: text, options: [], range: whole) { match, _, _ in
                guard let match, let range = Range(match.range, in: text) else { return }
                let offset = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
                if let last = lines.last, last.contains(offset) || last.upperBound == offset { return }
                lines.append(Self.line(containing: offset, in: buffer))
            }
        }
        if let repaired { repaired.withUnsafeBytes(collect) } else { collect(bytes) }
        return lines
    }

    /// The bytes with ASCII letters lowercased; lengths and offsets stay the same.
    static func asciiLowercased(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { folded, count in
            for index in 0..<bytes.count {
                let byte = bytes[index]
                folded[index] = byte &- 65 < 26 ? byte | 0x20 : byte
            }
            count = bytes.count
        }
    }

    /// The line around a byte offset, without its newline.
    static func line(containing offset: Int, in buffer: UnsafeRawBufferPointer) -> Range<Int> {
        let base = buffer.baseAddress!
        let start = offset == 0 ? 0 : (cprocess_memrchr(base, 10, offset).map { $0 - base + 1 } ?? 0)
        let end = memchr(base + offset, 10, buffer.count - offset).map { UnsafeRawPointer($0) - base } ?? buffer.count
        return start..<end
    }

    /// The literals one of which every match of the expression contains: one per top-level alternative.
    static func prefilter(for source: String) -> Prefilter? {
        var body = Substring(source)
        let foldsCase = body.hasPrefix("(?i)")
        if foldsCase { body = body.dropFirst(4) }
        var found: [(text: String, whole: Bool)] = []
        for branch in alternatives(of: String(body)) {
            guard let literal = requiredLiteral(in: branch) else { return nil }
            if foldsCase && !literal.text.allSatisfy(\.isASCII) { return nil }
            found.append(literal)
        }
        guard !found.isEmpty else { return nil }
        return Prefilter(
            literals: found.map { foldsCase ? $0.text.lowercased() : $0.text }, whole: found.allSatisfy(\.whole),
            foldsCase: foldsCase)
    }

    /// The expression split at its top-level `|`, outside groups and classes.
    static func alternatives(of source: String) -> [String] {
        var branches: [String] = []
        var current = ""
        var depth = 0
        var inClass = false
        var escaped = false
        for character in source {
            defer { escaped = !escaped && character == "\\" }
            if !escaped && !inClass && depth == 0 && character == "|" {
                branches.append(current)
                current = ""
                continue
            }
            current.append(character)
            guard !escaped else { continue }
            switch character {
            case "[" where !inClass: inClass = true
            case "]" where inClass: inClass = false
            case "(" where !inClass: depth += 1
            case ")" where !inClass: depth -= 1
            default: break
            }
        }
        branches.append(current)
        return branches
    }

    /// A literal every match of a branch contains, and whether the branch is only that literal.
    ///
    /// Conservative: nil for any inline flag it cannot honour or any remaining `|`; groups, classes,
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
