extension Duration {
    /// Parses `250ms`, `2s`, `1.5s`, `1m` or `1h`; nil for anything else.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingWhitespace()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value >= 0, value <= 86_400 / seconds
            else { return nil }
            return .milliseconds(Int64((value * seconds * 1000).rounded()))
        }
        return nil
    }

    /// Whole milliseconds, rounded down.
    public var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// Seconds as a floating-point number.
    public var seconds: Double { Double(milliseconds) / 1000 }

    /// The shortest faithful text form: `250ms`, `2s`, `1m`.
    public var shortDescription: String {
        let ms = milliseconds
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// The text cut to at most `limit` characters, marking the cut.
    public func truncated(to limit: Int) -> String {
        guard count > limit else { return self }
        return String(prefix(limit)) + "… (\(count - limit) more characters)"
    }

    /// The first line, trimmed.
    public var firstLine: String {
        String(split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: true).first ?? "").trimmingWhitespace()
    }
}

/// The edit distance between two words, counting a swap of neighbours as one edit, or nil when it is over `limit`.
///
/// Only cells within `limit` of the table's diagonal are computed, in three reused rows: the words come from
/// untrusted runbook text, and a full table for two 60 000-character values would take gigabytes and minutes.
package func editDistance(_ a: [Character], _ b: [Character], atMost limit: Int) -> Int? {
    guard abs(a.count - b.count) <= limit else { return nil }
    guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
    let over = limit + 1
    var rows = [[Int]](repeating: [Int](repeating: over, count: b.count + 1), count: 3)
    for j in 0...min(b.count, limit) { rows[0][j] = j }
    for i in 1...a.count {
        let (current, previous, twoBack) = (i % 3, (i + 2) % 3, (i + 1) % 3)
        // This row last held row i - 3; clear what that row computed so cells off the band read as over the limit.
        for j in max(0, i - limit - 4)...min(b.count, i + limit + 1) { rows[current][j] = over }
        if i <= limit { rows[current][0] = i }
        for j in max(1, i - limit)...min(b.count, i + limit) {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var value = min(rows[previous][j] + 1, rows[current][j - 1] + 1, rows[previous][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                value = min(value, rows[twoBack][j - 2] + 1)
            }
            rows[current][j] = min(value, over)
        }
    }
    let distance = rows[a.count % 3][b.count]
    return distance <= limit ? distance : nil
}

/// The closest candidate within a small edit distance, for "did you mean" hints.
package func closest(to word: String, among candidates: some Sequence<String>) -> String? {
    let limit = word.count <= 4 ? 1 : 2
    let letters = Array(word.lowercased())
    let scored = candidates.compactMap { candidate in
        editDistance(letters, Array(candidate.lowercased()), atMost: limit).map { (candidate, $0) }
    }
    return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
}

/// ` (did you mean 'x'?)`, or nothing.
package func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
    closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
}

/// A word quoted for a POSIX shell when it needs quoting, for showing commands.
public func shellQuoted(_ word: String) -> String {
    let safe = word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0)) }
    if safe && !word.isEmpty { return word }
    return "'" + word.replacingAll("'", with: "'\\''") + "'"
}
