/// Expands `${VAR}` and `${VAR:-default}` (and `$$` for a literal `$`) in input values.
public enum VariableExpansion {
    /// Why a value could not be expanded.
    public enum Failure: Error, Sendable, Hashable {
        /// `${VAR}` without a default names a variable that is not set.
        case unset(String)
        /// A `${` is not closed, or does not name a variable.
        case syntax(String)
    }

    /// The value with its variables expanded by `lookup`.
    public static func expand(_ text: String, lookup: (String) -> String?) throws(Failure) -> String {
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
            guard after.first == "{" else {
                result += "$"
                rest = after
                continue
            }
            guard let close = after.firstIndex(of: "}") else {
                throw .syntax("'${' is not closed by '}' in '\(text)'")
            }
            let body = after[after.index(after: after.startIndex)..<close]
            let name: Substring
            var fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
            }
            guard let first = name.first, first.isLetter || first == "_",
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                throw .syntax("'${\(body)}' does not name a variable; write ${NAME} or ${NAME:-default}")
            }
            if let value = lookup(String(name)), !(fallback != nil && value.isEmpty) {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                throw .unset(String(name))
            }
            rest = after[after.index(after: close)...]
        }
        result += rest
        return result
    }
}
