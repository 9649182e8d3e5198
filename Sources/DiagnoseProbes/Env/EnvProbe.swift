import DiagnoseCompose
import DiagnosePlatform

/// Checks a value, usually an input: equal to, matching, one of, or set.
///
/// Causes: `not-equal`, `mismatch`, `not-one-of`, `unset` (fail).
public struct EnvProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The value does not match the pattern.
        case mismatch
        /// The value is not the one expected.
        case notEqual = "not-equal"
        /// The value is none of the allowed ones.
        case notOneOf = "not-one-of"
        /// The value is set but should not be.
        case set
        /// The value (or variable) is not set, or is empty.
        case unset
    }

    /// The rule the value must follow.
    public enum Rule: Sendable, Hashable {
        case equals(String)
        case matches(Pattern)
        case oneOf([String])
        case set(Bool)
    }

    /// The value checked.
    public var value: String
    /// The name shown in the evidence; a secret-looking name hides the value.
    public var name: String
    /// The rule.
    public var rule: Rule

    /// Builds the probe: `value` and exactly one of `equals`, `matches`, `one_of`, `set`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        value = try arguments.requiredString("value")
        name = try arguments.string("name") ?? "value"
        var rules: [Rule] = []
        if let equals = try arguments.string("equals") { rules.append(.equals(equals)) }
        if let pattern = try arguments.pattern("matches") { rules.append(.matches(pattern)) }
        if let choices = try arguments.strings("one_of") { rules.append(.oneOf(choices)) }
        if let set = try arguments.bool("set") { rules.append(.set(set)) }
        guard rules.count == 1, let rule = rules.first else {
            throw ProbeArgumentError("", "give exactly one of 'equals', 'matches', 'one_of' or 'set'")
        }
        self.rule = rule
    }

    /// The value as it may be shown.
    var shown: String {
        if Redactor.isSecretName(name) { return value.isEmpty ? "(empty)" : Redactor.mask }
        return "'" + Redactor.standard.redact(value) + "'"
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let evidence = ["\(name) = \(shown)"]
        switch rule {
        case .equals(let expected):
            return value == expected
                ? .pass("\(name) is \(shown)", evidence: evidence)
                : .fail(
                    Cause.notEqual.rawValue, "\(name) is \(shown), expected '\(Redactor.standard.redact(expected))'",
                    evidence: evidence)
        case .matches(let pattern):
            return pattern.matches(value)
                ? .pass("\(name) matches /\(pattern.source)/", evidence: evidence)
                : .fail(
                    Cause.mismatch.rawValue, "\(name) is \(shown), which does not match /\(pattern.source)/",
                    evidence: evidence)
        case .oneOf(let choices):
            return choices.contains(value)
                ? .pass("\(name) is \(shown)", evidence: evidence)
                : .fail(
                    Cause.notOneOf.rawValue, "\(name) is \(shown), expected one of \(choices.joined(separator: ", "))",
                    evidence: evidence)
        case .set(let expected):
            let isSet = !value.trimmingWhitespace().isEmpty
            if isSet == expected { return .pass(isSet ? "\(name) is set" : "\(name) is not set", evidence: evidence) }
            return isSet
                ? .fail(Cause.set.rawValue, "\(name) is set, expected it to be empty", evidence: evidence)
                : .fail(Cause.unset.rawValue, "\(name) is empty or not set", evidence: evidence)
        }
    }
}

extension ProbeKind {
    /// `env`: checks a value against a rule.
    public static let env = ProbeKind(
        name: "env", required: ["value"], optional: ["name", "equals", "matches", "one_of", "set"]
    ) { arguments throws(ProbeArgumentError) in try EnvProbe(arguments) }
}
