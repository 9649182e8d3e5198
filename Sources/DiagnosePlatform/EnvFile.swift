/// A dotenv file's variables: `NAME=value` lines with quotes, `#` comments, `export ` prefixes and blank lines.
public struct EnvFile: Sendable, Hashable {
    /// Variables in file order; a later line wins.
    public var values: [String: String]

    /// A line that is not a variable assignment.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The line, from 1.
        public var line: Int
        /// What is wrong.
        public var message: String

        /// Creates an error for a line.
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    /// Parses dotenv text, throwing at the first line that is not `NAME=value`, a comment or blank.
    public init(parsing text: String) throws(ParseError) {
        var values: [String: String] = [:]
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        var index = 0
        while index < lines.count {
            let lineNumber = index + 1
            var line = Substring(lines[index].trimmingWhitespace())
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") || line.hasPrefix("export\t") {
                line = Substring(line.dropFirst(7).trimmingWhitespace())
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(
                    line: lineNumber, message: "expected NAME=value (the line is not shown: it may hold a secret)")
            }
            let name = line[..<equals].trimmingWhitespace()
            guard let first = name.first, first.isLetter || first == "_",
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") })
            else {
                throw ParseError(
                    line: lineNumber,
                    message:
                        "the text before '=' is not a variable name (letters, digits and _, not starting with a digit)")
            }
            var rest = Substring(line[line.index(after: equals)...].trimmingWhitespace())
            var value: String
            if let quote = rest.first, quote == "\"" || quote == "'" {
                // A quoted value may span lines until its closing quote.
                rest = rest.dropFirst()
                var collected = ""
                var closed = false
                var current = rest
                while true {
                    var escaped = false
                    var cursor = current.startIndex
                    while cursor < current.endIndex {
                        let character = current[cursor]
                        if quote == "\"" && escaped {
                            switch character {
                            case "n": collected.append("\n")
                            case "t": collected.append("\t")
                            default: collected.append(character)
                            }
                            escaped = false
                        } else if quote == "\"" && character == "\\" {
                            escaped = true
                        } else if character == quote {
                            closed = true
                            break
                        } else {
                            collected.append(character)
                        }
                        cursor = current.index(after: cursor)
                    }
                    if closed {
                        let trailing = current[current.index(after: cursor)...].trimmingWhitespace()
                        guard trailing.isEmpty || trailing.hasPrefix("#") else {
                            throw ParseError(
                                line: lineNumber, message: "unexpected text after the closing quote of \(name)")
                        }
                        break
                    }
                    guard index < lines.count else {
                        throw ParseError(line: lineNumber, message: "the quoted value of \(name) is not closed")
                    }
                    collected.append("\n")
                    current = lines[index]
                    index += 1
                }
                value = collected
            } else {
                if let hash = rest.range(of: " #") ?? rest.range(of: "\t#") { rest = rest[..<hash.lowerBound] }
                value = rest.trimmingWhitespace()
            }
            values[name] = value
        }
        self.values = values
    }
}
