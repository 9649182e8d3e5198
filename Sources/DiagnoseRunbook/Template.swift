import DiagnosePlatform
import DiagnoseProbes

/// Text with `{{ name }}` placeholders for runbook inputs.
public struct Template: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case input(String)
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
            let name = afterOpen[..<close.lowerBound].trimmingWhitespace()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw SyntaxError(
                    message: "'{{\(afterOpen[..<close.lowerBound])}}' does not name an input; write {{ input_name }}")
            }
            parts.append(.input(name))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The input names the text refers to.
    public var names: [String] {
        parts.compactMap { if case .input(let name) = $0 { name } else { nil } }
    }

    /// The text with each placeholder replaced by its input's value; unknown names stay as written.
    public func rendered(_ inputs: [String: String]) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .input(let name): inputs[name] ?? "{{ \(name) }}"
            }
        }.joined()
    }

    /// Renders text, leaving it unchanged when it does not parse (validation reports those).
    public static func render(_ text: String, _ inputs: [String: String]) -> String {
        guard text.contains("{{") else { return text }
        return (try? Template(text).rendered(inputs)) ?? text
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
