/// One next command of a diagnosis, and whether running it changes the stack (starts, stops, recreates or removes
/// something) rather than only looking. In a runbook a fix is a plain string, or
/// `{run: "docker compose up -d worker", changes: true}` (docs/runbooks.md).
public struct Fix: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The command line, as the on-call will type it.
    public var command: String
    /// Whether the command changes the stack; renderers mark it so that it is not run as a look.
    public var changesStack: Bool

    /// Creates a fix.
    public init(_ command: String, changesStack: Bool = false) {
        self.command = command
        self.changesStack = changesStack
    }

    /// A read-only fix from a literal, as plain strings are in a runbook.
    public init(stringLiteral command: String) { self.init(command) }

    /// The command.
    public var description: String { command }

    /// The fix with its command transformed (templates filled in, secrets hidden), its class kept.
    public func map(_ transform: (String) -> String) -> Fix { Fix(transform(command), changesStack: changesStack) }

    /// The words and phrases of a command that change a stack: a fix holding one without saying whether it changes
    /// the stack gets a warning from `diagnose validate`.
    public static let stateChangingWords: Set<String> = [
        "up", "restart", "rm", "down", "kill", "stop", "start", "unpause", "--force-recreate",
    ]

    /// Phrases of two words that change state, such as Redis's `config set`.
    public static let stateChangingPhrases: [[String]] = [["config", "set"]]

    /// The word or phrase that makes the command look state-changing, if one does.
    public var stateChangingWord: String? {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        if let word = words.first(where: Self.stateChangingWords.contains) { return word }
        for phrase in Self.stateChangingPhrases {
            for start in words.indices where words[start...].starts(with: phrase) {
                return phrase.joined(separator: " ")
            }
        }
        return nil
    }
}

extension Diagnosis {
    enum CodingKeys: String, CodingKey { case id, title, severity, explain, fix, changesStack, follows }

    /// Decodes `fix` as commands and `changesStack` (absent in runs written before it) as those that change it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            title: try container.decode(String.self, forKey: .title),
            severity: try container.decode(Status.self, forKey: .severity),
            explain: try container.decode(String.self, forKey: .explain),
            fix: try [Fix].decode(from: container, commands: .fix, changing: .changesStack),
            follows: try container.decodeIfPresent(String.self, forKey: .follows))
    }

    /// Encodes `fix` as the commands, and `changesStack` as those that change the stack, only when there are some.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(severity, forKey: .severity)
        try container.encode(explain, forKey: .explain)
        try fix.encode(to: &container, commands: .fix, changing: .changesStack)
        try container.encodeIfPresent(follows, forKey: .follows)
    }
}

extension [Fix] {
    /// Reads the `diagnose.run/v1` form: the commands under one key, those that change the stack under another.
    public static func decode<Key: CodingKey>(
        from container: KeyedDecodingContainer<Key>, commands: Key, changing: Key
    ) throws -> [Fix] {
        let changes = Set(try container.decodeIfPresent([String].self, forKey: changing) ?? [])
        return try container.decode([String].self, forKey: commands).map { Fix($0, changesStack: changes.contains($0)) }
    }

    /// Writes the `diagnose.run/v1` form: `fix` stays a list of strings for the readers of v1, and the key of the
    /// changing commands is added only when there are some.
    public func encode<Key: CodingKey>(to container: inout KeyedEncodingContainer<Key>, commands: Key, changing: Key)
        throws
    {
        try container.encode(map(\.command), forKey: commands)
        let changes = filter(\.changesStack).map(\.command)
        if !changes.isEmpty { try container.encode(changes, forKey: changing) }
    }
}

extension Runbook {
    /// Warnings for fixes that look state-changing (see `Fix.stateChangingWord`) but do not say whether they are:
    /// a plain string where `{run: ..., changes: true}` (or `changes: false`, to say it only looks) was probably meant.
    public var unmarkedStateChanges: [Finding] {
        diagnoses.flatMap { diagnosis in
            diagnosis.fix.enumerated().compactMap { index, fix -> Finding? in
                let path = "diagnoses.\(diagnosis.id).fix.\(index)"
                guard !source.has("\(path).changes"), let word = fix.stateChangingWord else { return nil }
                return Finding(
                    source.location(path),
                    "fix '\(fix.command)' of diagnosis '\(diagnosis.id)' looks like it changes the stack ('\(word)'); "
                        + "write it as {run: \"\(fix.command)\", changes: true}, or changes: false if it only looks",
                    severity: .warning)
            }
        }
    }
}
