/// Removes secrets from text: known secret values, passwords in URLs, and values of secret-looking names.
public struct Redactor: Sendable {
    /// What replaces a secret.
    public static let mask = "***"

    /// Literal values to hide wherever they appear, longest first.
    public private(set) var secrets: [String] = []

    private static let rules: [(Pattern, String)] = [
        // scheme://user:password@host, and scheme://:password@host
        // (the password runs to the last '@' before the path, as URL parsers read it: `p@ss` is one password)
        (try! Pattern(#"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'"]*):([^\s/'"]+)@"#), "$1:\(mask)@"),
        // redis-cli -a PASSWORD
        (try! Pattern(#"(\bredis-cli\b[^\n]*?\s-a)([ \t]+)(?!\*\*\*)(\S+)"#), "$1$2\(mask)"),
        // NAME=value, NAME: value, "NAME": "value" where NAME looks secret
        (
            try! Pattern(
                #"(?i)\b([A-Za-z0-9_.-]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS))(["']?[ \t]*[=:][ \t]*["']?)(?!\*\*\*)([^\s"',;}\]]+)"#
            ), "$1$2\(mask)"
        ),
        // requirepass VALUE, --requirepass VALUE, --password=VALUE
        (
            try! Pattern(#"(?i)(\brequirepass|\bmasterauth|--password|--pass|--token)([ \t]+|=)(?!\*\*\*)(\S+)"#),
            "$1$2\(mask)"
        ),
        // Authorization: Bearer VALUE
        (try! Pattern(#"(?i)(authorization:[ \t]*[A-Za-z]+[ \t]+)(\S+)"#), "$1\(mask)"),
    ]

    /// Whether a variable or input name looks like it holds a secret (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*PASS`).
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper.contains("KEY") || upper.contains("TOKEN") || upper.contains("SECRET")
            || upper.contains("PASSWORD") || upper.contains("PASSWD") || upper.hasSuffix("PASS")
            || upper.contains("CREDENTIAL")
    }

    /// The password in a URL's user information, if any.
    public static func urlPassword(_ text: String) -> String? {
        guard let scheme = text.range(of: "://") else { return nil }
        let rest = text[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return nil }
        let password = userinfo[userinfo.index(after: colon)...]
        return password.isEmpty ? nil : String(password)
    }

    /// The redactor hiding nothing but what its rules find; a run's redactor starts from it and learns the run's
    /// secrets (see `RunPlan`), a probe adds the secrets only it knows (a URL's password as sent, a header's value).
    public static let standard = Redactor()

    private init() {}

    /// This redactor, also hiding these values.
    public func adding(_ secrets: some Sequence<String>) -> Redactor {
        var copy = self
        for secret in secrets { copy.add(secret) }
        return copy
    }

    /// Hides this value from now on (values shorter than 3 characters are too common to hide safely).
    public mutating func add(_ secret: String) {
        let trimmed = secret.trimmingWhitespace()
        guard trimmed.count >= 3, !secrets.contains(trimmed) else { return }
        secrets.append(trimmed)
        secrets.sort { $0.count > $1.count }
    }

    /// Hides secret-looking variables and URL passwords of a set of named values.
    public mutating func learn(from values: [String: String]) {
        for (name, value) in values {
            if Self.isSecretName(name) { add(value) }
            if let password = Self.urlPassword(value) { add(password) }
        }
    }

    /// The text with every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingAll(secret, with: Self.mask)
        }
        for (pattern, template) in Self.rules {
            result = pattern.replacingMatches(in: result, with: template)
        }
        return result
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
