/// Expands `${VAR}`-style variables, as runbook inputs and compose files write them.
public enum VariableExpansion {
    /// Why a value could not be expanded.
    public enum Failure: Error, Sendable, Hashable {
        /// `${VAR}` without a default names a variable that is not set.
        case unset(String)
        /// A `${` is not closed, or does not name a variable.
        case syntax(String)
    }

    /// Which forms a text may use, and whether a wrong one is an error.
    public enum Dialect: Sendable, Hashable {
        /// Runbook inputs: `${VAR}`, `${VAR:-default}` and `$$` for a literal `$`; any other `$` is literal. An unset
        /// `${VAR}` or a malformed `${` is an error.
        case runbook
        /// Compose files: also `$VAR`, `${VAR-default}`, `${VAR:?error}` and `${VAR?error}`. Nothing is an error: an
        /// unset variable, required or not, reads as empty.
        case compose
    }

    /// The value with its variables expanded by `lookup`; only the `runbook` dialect throws.
    public static func expand(
        _ text: String, dialect: Dialect = .runbook, lookup: (String) -> String?
    ) throws(Failure) -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                result += "$"
                rest = after.dropFirst()
                continue
            }
            if after.first == "{", let close = after.firstIndex(of: "}") {
                let body = after[after.index(after: after.startIndex)..<close]
                switch dialect {
                case .runbook: result += try runbookValue(body, lookup: lookup)
                case .compose: result += composeValue(body, lookup: lookup)
                }
                rest = after[after.index(after: close)...]
                continue
            }
            if after.first == "{" && dialect == .runbook {
                throw .syntax("'${' is not closed by '}' in '\(text)'")
            }
            let name = dialect == .compose ? after.prefix(while: isNameCharacter) : ""
            if name.isEmpty {
                result += "$"
                rest = after
            } else {
                result += lookup(String(name)) ?? ""
                rest = after[name.endIndex...]
            }
        }
        result += rest
        return result
    }

    /// A compose file's value with its variables expanded; the compose dialect never fails.
    public static func composeInterpolated(_ text: String, lookup: (String) -> String?) -> String {
        (try? expand(text, dialect: .compose, lookup: lookup)) ?? text
    }

    static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_")
    }

    /// `NAME` or `NAME:-default`, strictly.
    static func runbookValue(_ body: Substring, lookup: (String) -> String?) throws(Failure) -> String {
        let name: Substring
        var fallback: Substring?
        if let separator = body.range(of: ":-") {
            name = body[..<separator.lowerBound]
            fallback = body[separator.upperBound...]
        } else {
            name = body
        }
        guard let first = name.first, first.isLetter || first == "_", name.allSatisfy(isNameCharacter) else {
            throw .syntax("'${\(body)}' does not name a variable; write ${NAME} or ${NAME:-default}")
        }
        if let value = lookup(String(name)), !(fallback != nil && value.isEmpty) { return value }
        if let fallback { return String(fallback) }
        throw .unset(String(name))
    }

    /// `NAME` followed by compose's modifiers: `:-default`, `-default`, or anything else (read as nothing).
    static func composeValue(_ body: Substring, lookup: (String) -> String?) -> String {
        let name = body.prefix(while: isNameCharacter)
        let modifier = body[name.endIndex...]
        let value = lookup(String(name))
        if modifier.hasPrefix(":-") { return value?.isEmpty == false ? value! : String(modifier.dropFirst(2)) }
        if modifier.hasPrefix("-") { return value ?? String(modifier.dropFirst()) }
        return value ?? ""
    }
}
