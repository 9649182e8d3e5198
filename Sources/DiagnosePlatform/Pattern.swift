import Foundation

/// A compiled regular expression, shareable across tasks.
public struct Pattern: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    private let box: Box

    private final class Box: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
        let regex: NSRegularExpression
        init(_ regex: NSRegularExpression) { self.regex = regex }
    }

    /// Compiles an expression (ICU syntax), throwing when it is invalid.
    public init(_ source: String) throws {
        self.source = source
        do {
            self.box = Box(try NSRegularExpression(pattern: source, options: []))
        } catch {
            throw InvalidPattern(source: source)
        }
    }

    /// An expression that does not compile.
    public struct InvalidPattern: Error, CustomStringConvertible {
        /// The expression as written.
        public var source: String
        public var description: String { "'\(source)' does not compile (check brackets, parentheses and escapes)" }
    }

    /// Whether the expression matches anywhere in the text.
    public func matches(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return box.regex.firstMatch(in: text, options: [], range: range) != nil
    }

    /// The first match's text, if any.
    public func firstMatch(in text: String) -> String? {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        guard let match = box.regex.firstMatch(in: text, options: [], range: range),
            let found = Range(match.range, in: text)
        else { return nil }
        return String(text[found])
    }

    /// Every match's capture groups (group 0 is the whole match); a missing group is empty.
    public func allMatches(in text: String) -> [[String]] {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return box.regex.matches(in: text, options: [], range: range).map { match in
            (0..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
        }
    }

    /// The text with every match replaced by a template (`$1` refers to a group).
    public func replacingMatches(in text: String, with template: String) -> String {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return box.regex.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: template)
    }

    public var description: String { source }

    public static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.source == rhs.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}
