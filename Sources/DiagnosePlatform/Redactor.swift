import Foundation

/// Removes secrets from text: known secret values, passwords in URLs, and values of secret-looking names.
public struct Redactor: Sendable {
    /// What replaces a secret.
    public static let mask = "***"

    /// Literal values to hide wherever they appear, longest first.
    public private(set) var secrets: [String] = []

    /// The pattern rules. Each runs over observed text of any length, so each is linear in it: a rule starts at a
    /// literal (a keyword, `redis-cli`, `authorization:`), never with an unbounded run that the engine would retry
    /// from every position of a long token; the URL rule is not a pattern but `maskingURLPasswords(in:)`.
    private static let rules: [(Pattern, String)] = [
        // redis-cli -a PASSWORD (the option within 512 characters of the program's name on its line)
        (try! Pattern(#"(\bredis-cli\b[^\n]{0,512}?\s-a)([ \t]+)(?!\*\*\*)(\S+)"#), "$1$2\(mask)"),
        // mysql -pPASSWORD (the password glued to -p, within 512 characters of the program's name on its line)
        (
            try! Pattern(
                #"(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]{0,512}?\s-p)(?!\*\*\*)([^\s-]\S*)"#),
            "$1\(mask)"
        ),
        // curl -u user:password, --user user:password, --user=user:password
        (try! Pattern(#"((?:^|\s)(?:-u|--user)(?:[ \t]+|=)[^\s:]*:)(?!\*\*\*)(\S+)"#), "$1\(mask)"),
        // presigned and tokened URLs: ?X-Amz-Signature=..., &sig=..., &token=..., &key=...
        (
            try! Pattern(
                #"(?i)([?&;](?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|sig|signature|sas|token|access_token|refresh_token|id_token|key|api_key|apikey|secret|client_secret|password|passwd|pwd|auth|code)=)(?!\*\*\*)([^&\s#'"]+)"#
            ), "$1\(mask)"
        ),
        // Authorization: SCHEME VALUE..., Proxy-Authorization too, the value to the end of the line (AWS's has spaces)
        (
            try! Pattern(
                #"(?i)((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?[A-Za-z][A-Za-z0-9._-]*[ \t]+)(?!\*\*\*)[^\r\n"']+"#
            ), "$1\(mask)"
        ),
        // Authorization: VALUE, without a scheme
        (
            try! Pattern(
                #"(?i)((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?)(?!\*\*\*)([^\s"']+)(?=[ \t]*(?:[\r\n"']|$))"#
            ),
            "$1\(mask)"
        ),
        // NAME="value with spaces" and NAME='value with spaces' where NAME looks secret
        (try! Pattern(#"(?i)(\#(nameKeyword)["']?[ \t]*[=:][ \t]*")(?!\*\*\*")[^"\n]*""#), "$1\(mask)\""),
        (try! Pattern(#"(?i)(\#(nameKeyword)["']?[ \t]*[=:][ \t]*')(?!\*\*\*')[^'\n]*'"#), "$1\(mask)'"),
        // NAME=value, NAME: value, "NAME": "value" where NAME looks secret: matched from the end of the name, its
        // keyword, so that nothing before it is scanned again (the name's start changes nothing in the replacement)
        (
            try! Pattern(#"(?i)(\#(nameKeyword))(["']?[ \t]*[=:][ \t]*["']?)(?!\*\*\*)([^\s"',;}\]]+)"#),
            "$1$2\(mask)"
        ),
        // requirepass VALUE, --requirepass VALUE, --password=VALUE, --api-key VALUE, --token VALUE
        (
            try! Pattern(
                #"(?i)(\brequirepass|\bmasterauth|--password|--passphrase|--pass|--token|--auth-token|--access-token|--api-key|--apikey|--secret|--client-secret)([ \t]+|=)(?!\*\*\*)(\S+)"#
            ),
            "$1$2\(mask)"
        ),
    ]

    /// How a secret-looking name ends (`*KEY`, `*TOKEN`, `*SECRET`, `*PASSWORD`, `*PASSWD`, `*PASSPHRASE`, `*PASS`,
    /// `*CREDENTIAL(S)`, and `*_PWD`, `*_DSN`, `*_PAT`, `*_AUTH` or those words alone), as a pattern group.
    private static let nameKeyword =
        #"(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PASS|CREDENTIALS?|_PWD|(?:_|\b)(?:DSN|PAT|AUTH))"#

    /// At most this many characters of a URL scheme are looked at before `://`.
    static let schemeLimit = 32

    /// `scheme://user:password@host` and `scheme://:password@host` with the password masked; the password runs to
    /// the last `@` before the path, as URL parsers read it (`p@ss` is one password).
    ///
    /// A scan, not a pattern: each `://` is found once, the scheme is looked for at most `schemeLimit` characters
    /// before it, and the authority after it ends at the next `/`, quote or space, so every character is read a
    /// bounded number of times however long a run of letters, hex or base64 the text holds.
    static func maskingURLPasswords(in text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3 else { return text }
        func isSchemeByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2B || byte == 0x2E || byte == 0x2D
        }
        func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) }
        func endsUser(_ byte: UInt8) -> Bool {
            byte == 0x3A || byte == 0x2F || byte == 0x40 || byte == 0x27 || byte == 0x22 || isSpace(byte)
        }
        func endsPassword(_ byte: UInt8) -> Bool { byte == 0x2F || byte == 0x27 || byte == 0x22 || isSpace(byte) }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

        var cuts: [Range<Int>] = []
        var index = 0
        while index + 2 < bytes.count {
            guard bytes[index] == 0x3A, bytes[index + 1] == 0x2F, bytes[index + 2] == 0x2F else {
                index += 1
                continue
            }
            let separator = index
            index += 3
            // A scheme: a letter, then letters, digits, + . -, right before `://`.
            var start = separator
            while start > 0, separator - start < schemeLimit, isSchemeByte(bytes[start - 1]) { start -= 1 }
            while start < separator, !isLetter(bytes[start]) { start += 1 }
            guard start < separator, cuts.last.map({ $0.upperBound <= start }) ?? true else { continue }
            var cursor = separator + 3
            while cursor < bytes.count, !endsUser(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count, bytes[cursor] == 0x3A else { continue }
            let passwordStart = cursor + 1
            cursor = passwordStart
            var lastAt: Int?
            while cursor < bytes.count, !endsPassword(bytes[cursor]) {
                if bytes[cursor] == 0x40 { lastAt = cursor }
                cursor += 1
            }
            guard let lastAt, lastAt > passwordStart else { continue }
            cuts.append(passwordStart..<lastAt)
            index = lastAt
        }
        guard !cuts.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var from = 0
        for cut in cuts {
            out += bytes[from..<cut.lowerBound]
            out += Array(mask.utf8)
            from = cut.upperBound
        }
        out += bytes[from...]
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a variable or input name looks like it holds a secret (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`,
    /// `*PASSPHRASE*`, `*CREDENTIAL*`, `*PASS`, `*_PWD`, `*_DSN`, `*_PAT`, `*_AUTH`; `PWD` alone is the shell's folder).
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        if upper.contains("KEY") || upper.contains("TOKEN") || upper.contains("SECRET") || upper.contains("PASSWORD")
            || upper.contains("PASSWD") || upper.contains("PASSPHRASE") || upper.hasSuffix("PASS")
            || upper.contains("CREDENTIAL")
        {
            return true
        }
        return ["PWD", "DSN", "PAT", "AUTH"].contains { upper.hasSuffix("_" + $0) || upper == $0 && $0 != "PWD" }
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
            if let password = Self.urlPassword(value) {
                add(password)
                // As a client sends it: a URL's password is percent-encoded, the server and its logs see it decoded.
                if let decoded = password.removingPercentEncoding { add(decoded) }
            }
        }
    }

    /// The text with every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingAll(secret, with: Self.mask)
        }
        result = Self.maskingURLPasswords(in: result)
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
