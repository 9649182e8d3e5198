import DiagnoseCompose
import DiagnosePlatform

/// An argument of a probe that cannot be used as given.
public struct ProbeArgumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The argument's name; empty when the problem involves several.
    public var argument: String
    /// What is wrong and what is expected.
    public var message: String

    /// Creates an error about one argument.
    public init(_ argument: String, _ message: String) {
        self.argument = argument
        self.message = message
    }

    public var description: String { argument.isEmpty ? message : "argument '\(argument)': \(message)" }
}

/// A probe's interpolated arguments, read with typed accessors that say what is wrong.
public struct ProbeArguments: Sendable, Hashable {
    /// The raw arguments by name.
    public var values: [String: ArgumentValue]

    /// Wraps these arguments.
    public init(_ values: [String: ArgumentValue]) { self.values = values }

    /// Whether the argument was given.
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// A text argument, or nil when absent.
    public func string(_ name: String) throws(ProbeArgumentError) -> String? {
        switch values[name] {
        case nil: return nil
        case .scalar(let text): return text
        case .some: throw ProbeArgumentError(name, "expected a single value, not a list or a map")
        }
    }

    /// A text argument that must be given.
    public func requiredString(_ name: String) throws(ProbeArgumentError) -> String {
        guard let text = try string(name) else { throw ProbeArgumentError(name, "is required") }
        return text
    }

    /// A whole number, or nil when absent.
    public func int(_ name: String, in range: ClosedRange<Int> = 0...Int.max) throws(ProbeArgumentError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text.trimmingWhitespace()), range.contains(value) else {
            throw ProbeArgumentError(
                name, "expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// A boolean (`true`/`false`/`yes`/`no`), or nil when absent.
    public func bool(_ name: String) throws(ProbeArgumentError) -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ProbeArgumentError(name, "expected true or false, got '\(text)'")
        }
    }

    /// A duration such as `250ms`, `2s` or `1m`, or nil when absent.
    public func duration(_ name: String) throws(ProbeArgumentError) -> Duration? {
        guard let text = try string(name) else { return nil }
        guard let value = Duration.parse(text) else {
            throw ProbeArgumentError(name, "expected a duration such as 250ms, 2s or 1m, got '\(text)'")
        }
        return value
    }

    /// A list of text values (a single value counts as a list of one), or nil when absent.
    public func strings(_ name: String) throws(ProbeArgumentError) -> [String]? {
        switch values[name] {
        case nil: return nil
        case .scalar(let text): return [text]
        case .list(let items):
            var result: [String] = []
            for item in items {
                guard case .scalar(let text) = item else {
                    throw ProbeArgumentError(name, "expected a list of values, found a nested list or map")
                }
                result.append(text)
            }
            return result
        case .map: throw ProbeArgumentError(name, "expected a list, not a map")
        }
    }

    /// A map of text values, or nil when absent.
    public func stringMap(_ name: String) throws(ProbeArgumentError) -> [String: String]? {
        switch values[name] {
        case nil: return nil
        case .map(let entries):
            var result: [String: String] = [:]
            for (key, value) in entries {
                guard case .scalar(let text) = value else {
                    throw ProbeArgumentError(name, "expected text for '\(key)', found a list or map")
                }
                result[key] = text
            }
            return result
        case .some: throw ProbeArgumentError(name, "expected a map of names to values")
        }
    }

    /// One of a closed set of words, or nil when absent.
    public func choice(_ name: String, _ allowed: [String]) throws(ProbeArgumentError) -> String? {
        guard let text = try string(name) else { return nil }
        guard allowed.contains(text) else {
            throw ProbeArgumentError(name, "expected one of \(allowed.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// A compiled regular expression, or nil when absent.
    public func pattern(_ name: String) throws(ProbeArgumentError) -> Pattern? {
        guard let text = try string(name) else { return nil }
        do {
            return try Pattern(text)
        } catch {
            throw ProbeArgumentError(name, "is not a valid regular expression: \(error)")
        }
    }
}
