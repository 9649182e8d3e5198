import DiagnosePlatform
import DiagnoseProbes

/// Text with `{{ name }}` placeholders for runbook inputs; `{{ name | raw }}` opts out of shell quoting.
public struct Template: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case input(String, raw: Bool)
    }

    /// The filters a placeholder may name after `|`.
    public static let filters: Set<String> = ["raw"]

    /// How a value is inserted into the text.
    public enum Quoting: Sendable, Hashable {
        /// As is: URLs, titles, explanations, argv elements.
        case none
        /// Quoted for POSIX sh, unless the placeholder says `| raw`: `shell:` scripts and fix commands.
        case shell
    }

    /// The arguments, by probe kind, whose text is a shell script, so that values go in quoted.
    public static let shellArguments: [String: Set<String>] = ["command": ["shell"]]

    /// How the values in a step's argument are inserted.
    public static func quoting(probe: String, argument: String) -> Quoting {
        shellArguments[probe]?.contains(argument) == true ? .shell : .none
    }

    let parts: [Part]

    /// A placeholder that is not closed or names nothing.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        public var message: String
        public var description: String { message }
    }

    /// Parses text; `{{` must be closed by `}}` around an input name.
    public init(_ text: String) throws(SyntaxError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw SyntaxError(message: "'{{' is not closed by '}}' in '\(text)'")
            }
            let inside = afterOpen[..<close.lowerBound]
            let pieces = inside.split(separator: "|", omittingEmptySubsequences: false)
            let name = pieces[0].trimmingWhitespace()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw SyntaxError(message: "'{{\(inside)}}' does not name an input; write {{ input_name }}")
            }
            var raw = false
            for filter in pieces.dropFirst().map({ String($0.trimmingWhitespace()) }) {
                guard Self.filters.contains(filter) else {
                    throw SyntaxError(
                        message:
                            "'{{\(inside)}}' names the unknown filter '\(filter)'; the only filter is 'raw' ({{ \(name) | raw }})"
                    )
                }
                raw = true
            }
            parts.append(.input(String(name), raw: raw))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The input names the text refers to.
    public var names: [String] {
        parts.compactMap { if case .input(let name, _) = $0 { name } else { nil } }
    }

    /// The text with each placeholder replaced by its input's value, quoted as asked; unknown names stay as written.
    public func rendered(_ inputs: [String: String], quoting: Quoting = .none) -> String {
        parts.map { part in
            switch part {
            case .text(let text): return text
            case .input(let name, let raw):
                guard let value = inputs[name] else { return raw ? "{{ \(name) | raw }}" : "{{ \(name) }}" }
                return quoting == .shell && !raw ? Self.shellQuoted(value) : value
            }
        }.joined()
    }

    /// Renders text, leaving it unchanged when it does not parse (validation reports those).
    public static func render(_ text: String, _ inputs: [String: String], quoting: Quoting = .none) -> String {
        guard text.contains("{{") else { return text }
        return (try? Template(text).rendered(inputs, quoting: quoting)) ?? text
    }

    /// Characters a POSIX sh word may hold without quotes and mean only themselves.
    static let bareCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")

    /// The value as one POSIX sh word: bare when every character is plain (so `curl -s {{ url }}/health` reads
    /// well), else in single quotes with each `'` written `'\''`; the empty value is `''`.
    public static func shellQuoted(_ value: String) -> String {
        if !value.isEmpty, value.allSatisfy(bareCharacters.contains) { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The quote a shell would be inside at each placeholder: `'`, `"`, `<` after a here-document operator `<<`
    /// (whose body takes quotes literally, so no quoting makes a value inert there), or nil when bare; a backslash
    /// outside single quotes escapes the next character, and a `#` starting a word outside quotes comments out the
    /// rest of its line. The quoting of values assumes bare, so the validator refuses the others.
    public var shellContexts: [(name: String, raw: Bool, quote: Character?)] {
        var quote: Character? = nil
        var escaped = false
        var comment = false
        var heredoc = false
        var previous: Character = " "
        var contexts: [(name: String, raw: Bool, quote: Character?)] = []
        for part in parts {
            switch part {
            case .input(let name, let raw):
                if !comment { contexts.append((name, raw, heredoc ? "<" : quote)) }
                escaped = false
                previous = "x"
            case .text(let text):
                for character in text {
                    defer { previous = character }
                    if comment {
                        if character == "\n" { comment = false }
                    } else if escaped {
                        escaped = false
                    } else if quote == "'" {
                        if character == "'" { quote = nil }
                    } else if character == "\\" {
                        escaped = true
                    } else if quote == "\"" {
                        if character == "\"" { quote = nil }
                    } else if character == "'" || character == "\"" {
                        quote = character
                    } else if character == "#", previous.isWhitespace || previous == ";" {
                        comment = true
                    } else if character == "<", previous == "<" {
                        heredoc = true
                    }
                }
            }
        }
        return contexts
    }
}

/// Where input values come from, highest precedence first: `--set`, then the process environment, then the env file.
public struct InputSources: Sendable {
    /// `--set name=value` overrides, by input name.
    public var overrides: [String: String]
    /// The process environment.
    public var environment: [String: String]
    /// Variables read from the env file.
    public var envFile: [String: String]

    /// Creates input sources.
    public init(overrides: [String: String] = [:], environment: [String: String] = [:], envFile: [String: String] = [:])
    {
        self.overrides = overrides
        self.environment = environment
        self.envFile = envFile
    }

    /// A variable's value: the process environment first, then the env file.
    public func variable(_ name: String) -> String? { environment[name] ?? envFile[name] }
}

/// An input that cannot be resolved.
public struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the input is defined.
    public var location: SourceLocation
    /// What is wrong and what to do.
    public var message: String

    public var description: String { "\(location): error: \(message)" }
}

extension Runbook {
    /// Every input's value: `--set` first, else its template with `${VAR}` and `${VAR:-default}` expanded.
    public func resolveInputs(_ sources: InputSources) throws(InputError) -> [String: String] {
        var values: [String: String] = [:]
        for input in inputs {
            if let override = sources.overrides[input.name] {
                values[input.name] = override
                continue
            }
            do {
                values[input.name] = try VariableExpansion.expand(input.template) { sources.variable($0) }
            } catch {
                let location = source.location("inputs.\(input.name)")
                switch error {
                case .unset(let variable):
                    throw InputError(
                        location: location,
                        message:
                            "input '\(input.name)' needs ${\(variable)}, which is not set; export \(variable), put it in the env file, or pass --set \(input.name)=VALUE"
                    )
                case .syntax(let message):
                    throw InputError(location: location, message: "input '\(input.name)': \(message)")
                }
            }
        }
        return values
    }
}
