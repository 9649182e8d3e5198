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

    /// Edit distance counting a swap of neighbours as one edit, for "did you mean" suggestions.
    func editDistance(to other: String) -> Int {
        let a = Array(self)
        let b = Array(other)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = Swift.min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = Swift.min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

/// The closest candidate within a small edit distance, for "did you mean" hints.
func closest(to word: String, among candidates: some Sequence<String>) -> String? {
    let limit = word.count <= 4 ? 1 : 2
    let scored = candidates.map { ($0, word.lowercased().editDistance(to: $0.lowercased())) }
        .filter { $0.1 <= limit }
        .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    return scored.first?.0
}

/// ` (did you mean 'x'?)`, or nothing.
func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String {
    closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
}
