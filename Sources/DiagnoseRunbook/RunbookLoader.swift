import DiagnosePlatform
import DiagnoseProbes
import Foundation
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// Why runbooks could not be loaded.
public enum RunbookError: Error, Sendable, CustomStringConvertible {
    /// A file or folder could not be read.
    case unreadable(path: String, reason: String)
    /// One or more runbooks are invalid; every finding is listed.
    case invalid([Finding])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): error: \(reason)"
        case .invalid(let findings): findings.map(\.description).joined(separator: "\n")
        }
    }
}

/// Reads runbook YAML into `Runbook` values, collecting every finding with its line and column.
public struct RunbookLoader: Sendable {
    /// The kinds steps may name.
    public var registry: ProbeRegistry

    /// Creates a loader that checks probes against these kinds.
    public init(registry: ProbeRegistry = .standard) { self.registry = registry }

    /// The largest runbook file read; anything bigger is refused rather than parsed.
    public static let maximumFileSize = 8 * 1024 * 1024

    static let rootKeys = ["id", "title", "description", "inputs", "start", "steps", "diagnoses"]
    static let stepKeys = ["title", "probe", "with", "timeout", "on"]
    static let diagnosisKeys = ["severity", "title", "explain", "fix", "follows"]
    static let fixKeys = ["run", "changes"]

    /// Loads one file; the id defaults to its name without `.yml`/`.yaml`.
    public func load(file path: String) throws(RunbookError) -> Runbook {
        let text = try Self.read(path)
        let (runbook, findings) = parse(text, file: path)
        guard let runbook, findings.isEmpty else { throw .invalid(findings) }
        return runbook
    }

    /// Reads a file's text, refusing what is not a readable, reasonably sized UTF-8 file.
    ///
    /// Only regular files are opened for reading. A FIFO would block the open (and then the read) until a writer
    /// came, a device may do anything when opened, and a socket cannot be opened at all. So the path is first
    /// `stat`ed, which refuses them without opening anything; and because the entry may be replaced between that
    /// `stat` and the `open`, the open is non-blocking (a FIFO swapped in meanwhile returns at once instead of
    /// waiting) and without a controlling terminal, and `fstat` on the opened descriptor decides again.
    static func read(_ path: String) throws(RunbookError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: Self.reason(errno: errno)) }
        try Self.requireRegular(info, path: path)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: Self.reason(errno: errno)) }
        defer { close(fd) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: Self.reason(errno: errno)) }
        try Self.requireRegular(info, path: path)
        let data = (try? handle.read(upToCount: maximumFileSize + 1)) ?? Data()
        guard data.count <= maximumFileSize else {
            throw .unreadable(path: path, reason: "is larger than \(maximumFileSize / 1_048_576) MiB; not a runbook")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let (line, column) = Self.firstInvalidUTF8(data)
            throw .invalid([
                Finding(
                    SourceLocation(file: path, line: line, column: column),
                    "the file is not UTF-8 text; save it as UTF-8")
            ])
        }
        return text
    }

    /// Refuses anything but a regular file, naming what it is.
    static func requireRegular(_ info: stat, path: String) throws(RunbookError) {
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw .unreadable(path: path, reason: "is a folder, expected a runbook file")
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFSOCK: kind = "a socket"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        default: kind = "not a regular file"
        }
        throw .unreadable(
            path: path,
            reason: "is \(kind), not a regular file; a runbook must be a regular file: remove it, or rename it "
                + "so that it does not end in .yml or .yaml")
    }

    /// Why a runbook file cannot be opened, from `errno`.
    static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT, ENOTDIR: "no such file"
        case EACCES, EPERM: "cannot be read (check its permissions)"
        case ELOOP: "is a symbolic link loop"
        case ENXIO: "cannot be opened (a socket or a device without a driver); a runbook must be a regular file"
        default: "cannot be read: \(String(cString: strerror(code)))"
        }
    }

    /// The line and column of the first byte that is not UTF-8.
    static func firstInvalidUTF8(_ data: Data) -> (Int, Int) {
        var line = 1
        for chunk in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if String(validating: chunk, as: UTF8.self) == nil {
                return (line, chunk.prefix { $0 < 0x80 }.count + 1)
            }
            line += 1
        }
        return (1, 1)
    }

    /// The default id of a runbook file: its name without `.yml` or `.yaml`.
    public static func defaultID(for path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }

    /// Parses runbook text; returns the runbook when its structure could be read, and every finding.
    public func parse(_ text: String, file: String) -> (Runbook?, [Finding]) {
        var decoder = NodeDecoder(file: file, registry: registry)
        let root: Node
        if let anchor = YAMLAnchors.first(in: text) {
            let what = anchor.isAlias ? "alias '*\(anchor.name)'" : "anchor '&\(anchor.name)'"
            return (
                nil,
                [
                    Finding(
                        SourceLocation(file: file, line: anchor.line, column: anchor.column),
                        "YAML \(what): runbooks do not take anchors, aliases or merge keys (a few of them can expand "
                            + "a small file into millions of values); write the value out where it is used")
                ]
            )
        }
        do {
            // Every value is read as text, so the default resolver's regular expressions (bool, int, float,
            // timestamp...) that tag each scalar would only cost time.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                return (
                    nil,
                    [
                        Finding(
                            SourceLocation(file: file, line: 1, column: 1),
                            "the file is empty; a runbook needs title, start, steps and diagnoses")
                    ]
                )
            }
            root = node
        } catch let error as YamlError {
            return (nil, [Self.finding(for: error, file: file)])
        } catch {
            return (nil, [Finding(SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")])
        }
        let runbook = decoder.decodeRunbook(root, defaultID: Self.defaultID(for: file))
        var findings = decoder.findings
        if let runbook { findings += RunbookValidator(registry: registry).check(runbook) }
        return (runbook, Self.sorted(findings))
    }

    static func sorted(_ findings: [Finding]) -> [Finding] {
        var seen = Set<Finding>()
        return findings.filter { seen.insert($0).inserted }
            .sorted {
                ($0.location.file, $0.location.line, $0.location.column) < (
                    $1.location.file, $1.location.line, $1.location.column
                )
            }
    }

    static func finding(for error: YamlError, file: String) -> Finding {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // libyaml's own wording names its C setter (with a stray parenthesis); say what it means instead.
            if problem.hasPrefix("Maximum nesting level reached") {
                return Finding(at(mark), "invalid YAML: values nest more than 1000 levels deep; a runbook needs a few")
            }
            let while_ = context.map { " (\($0.text.trimmingWhitespace()))" } ?? ""
            return Finding(at(mark), "invalid YAML: \(problem)\(while_)")
        case .reader(let problem, let offset, _, let yaml):
            let prefix = offset.map { String(yaml.utf8.prefix($0)) ?? "" } ?? ""
            let lines = prefix.split(separator: "\n", omittingEmptySubsequences: false)
            return Finding(
                SourceLocation(file: file, line: lines.count, column: (lines.last?.count ?? 0) + 1),
                "invalid text: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            // Yams marks the first occurrence; the second is the one to fix, so point there when it can be found.
            var location = at(context.mark)
            if let key = duplicates.sorted().first {
                let indent = String(repeating: " ", count: max(0, context.mark.column - 1))
                let lines = context.text.split(separator: "\n", omittingEmptySubsequences: false)
                let later = lines.indices.dropFirst(context.mark.line).first { index in
                    lines[index].hasPrefix(indent + key + ":") || lines[index].hasPrefix(indent + "\"" + key + "\":")
                }
                if let later { location = SourceLocation(file: file, line: later + 1, column: context.mark.column) }
            }
            return Finding(location, "key \(keys) is used twice in the same mapping; ids and keys must be unique")
        default:
            return Finding(SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)")
        }
    }
}

/// Walks a composed YAML node into a runbook, recording a finding for each problem and the marks for later checks.
struct NodeDecoder {
    let file: String
    let registry: ProbeRegistry
    var findings: [Finding] = []
    var source: SourceMap

    init(file: String, registry: ProbeRegistry) {
        self.file = file
        self.registry = registry
        self.source = SourceMap(file: file)
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    mutating func report(_ node: Node, _ message: String) { findings.append(Finding(location(node), message)) }

    mutating func record(_ path: String, _ node: Node) {
        source.record(path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// The mapping's entries with scalar keys, reporting non-scalar keys and keys outside `allowed`.
    mutating func entries(_ node: Node, of what: String, allowed: [String]?) -> [(
        key: String, keyNode: Node, value: Node
    )]? {
        guard case .mapping(let mapping) = node else {
            report(node, "\(what) must be a mapping of keys to values, found \(describe(node))")
            return nil
        }
        var result: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(keyNode, "keys in \(what) must be plain names, found \(describe(keyNode))")
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                report(
                    keyNode,
                    "unknown key '\(scalar.string)' in \(what)\(didYouMean(scalar.string, among: allowed)); allowed: \(allowed.joined(separator: ", "))"
                )
                continue
            }
            result.append((scalar.string, keyNode, value))
        }
        return result
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "an empty value" : "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// A non-empty text value.
    mutating func text(_ node: Node, _ what: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, "\(what) must be text, found \(describe(node))")
            return nil
        }
        let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        if isNull || (!allowEmpty && scalar.string.trimmingWhitespace().isEmpty) {
            if allowEmpty { return "" }
            report(node, "\(what) is empty")
            return nil
        }
        return scalar.string
    }

    mutating func decodeRunbook(_ root: Node, defaultID: String) -> Runbook? {
        record("", root)
        guard let entries = entries(root, of: "the runbook", allowed: RunbookLoader.rootKeys) else { return nil }
        var values: [String: Node] = [:]
        for entry in entries { values[entry.key] = entry.value }

        var id = defaultID
        if let node = values["id"] {
            record("id", node)
            if let given = text(node, "'id'") { id = given }
        }
        if !Self.isValidID(id) {
            findings.append(
                Finding(
                    source.location("id"),
                    "runbook id '\(id)' must be a plain name: letters, digits, '-', '_' or '.', not starting with '-'"))
        }
        var title = id
        if let node = values["title"] {
            title = text(node, "'title'") ?? id
        } else {
            findings.append(
                Finding(location(root), "missing 'title': say in a few words what the runbook investigates"))
        }
        let description = values["description"].flatMap { text($0, "'description'", allowEmpty: true) } ?? ""

        var inputs: [Input] = []
        if let node = values["inputs"], let items = self.entries(node, of: "'inputs'", allowed: nil) {
            record("inputs", node)
            for item in items {
                record("inputs.\(item.key)", item.value)
                guard let template = text(item.value, "input '\(item.key)'", allowEmpty: true) else { continue }
                inputs.append(Input(name: item.key, template: template))
            }
        }

        var start = ""
        if let node = values["start"] {
            record("start", node)
            start = text(node, "'start'") ?? ""
        } else {
            findings.append(Finding(location(root), "missing 'start': name the step the runbook begins with"))
        }

        var steps: [Step] = []
        if let node = values["steps"] {
            record("steps", node)
            if let items = self.entries(node, of: "'steps'", allowed: nil) {
                if items.isEmpty { report(node, "'steps' is empty; a runbook needs at least one step") }
                for item in items {
                    if let step = decodeStep(item.key, keyNode: item.keyNode, item.value) { steps.append(step) }
                }
            }
        } else {
            findings.append(Finding(location(root), "missing 'steps': a runbook needs at least one step"))
        }

        var diagnoses: [Diagnosis] = []
        if let node = values["diagnoses"] {
            record("diagnoses", node)
            if let items = self.entries(node, of: "'diagnoses'", allowed: nil) {
                if items.isEmpty { report(node, "'diagnoses' is empty; a runbook needs at least one diagnosis") }
                for item in items {
                    if let diagnosis = decodeDiagnosis(item.key, keyNode: item.keyNode, item.value) {
                        diagnoses.append(diagnosis)
                    }
                }
            }
        } else {
            findings.append(
                Finding(location(root), "missing 'diagnoses': a runbook must end in at least one diagnosis"))
        }

        return Runbook(
            id: id, title: title, description: description, inputs: inputs, start: start, steps: steps,
            diagnoses: diagnoses, source: source)
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.first, first != "-", first != "." else { return false }
        return id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    mutating func decodeStep(_ id: String, keyNode: Node, _ node: Node) -> Step? {
        let path = "steps.\(id)"
        record(path, keyNode)
        if !Self.isValidID(id) {
            report(keyNode, "step id '\(id)' must be a plain name: letters, digits, '-', '_' or '.'")
        }
        guard let entries = entries(node, of: "step '\(id)'", allowed: RunbookLoader.stepKeys) else { return nil }
        var values: [String: Node] = [:]
        for entry in entries {
            values[entry.key] = entry.value
            record("\(path).\(entry.key)", entry.value)
        }
        let title = values["title"].flatMap { text($0, "the title of step '\(id)'") } ?? id

        var kind = ""
        if let probeNode = values["probe"] {
            kind = text(probeNode, "the probe of step '\(id)'") ?? ""
        } else {
            report(
                keyNode,
                "step '\(id)' has no 'probe'; name a probe kind (\(registry.kinds.keys.sorted().joined(separator: ", ")))"
            )
        }

        var arguments: [String: ArgumentValue] = [:]
        if let withNode = values["with"] {
            if let items = self.entries(withNode, of: "the arguments of step '\(id)'", allowed: nil) {
                for item in items {
                    record("\(path).with.\(item.key)", item.value)
                    record("\(path).with.\(item.key)@key", item.keyNode)
                    if let argument = decodeArgument(item.value, at: "\(path).with.\(item.key)") {
                        arguments[item.key] = argument
                    }
                }
            }
        }

        var timeout = Step.defaultTimeout
        if let timeoutNode = values["timeout"], let text = text(timeoutNode, "the timeout of step '\(id)'") {
            if let parsed = Duration.parse(text), parsed > .zero {
                timeout = parsed
            } else {
                report(
                    timeoutNode, "bad duration '\(text)' for the timeout of step '\(id)'; write e.g. 250ms, 2s or 1m")
            }
        }

        var next: [Outcome: String] = [:]
        var causeRoutes: [Outcome: [String: String]] = [:]
        if let onNode = values["on"] {
            let outcomes = Outcome.allCases.map(\.rawValue)
            if let items = self.entries(onNode, of: "'on' of step '\(id)'", allowed: nil) {
                for item in items {
                    // A misspelt outcome (`fial:`) is reported once and then read as the outcome it resembles,
                    // so the typo does not also surface as an unmapped outcome and an unreached diagnosis.
                    var name = item.key
                    if Outcome(rawValue: name) == nil {
                        report(
                            item.keyNode,
                            "unknown key '\(name)' in 'on' of step '\(id)'\(didYouMean(name, among: outcomes)); allowed: \(outcomes.joined(separator: ", "))"
                        )
                        guard let guess = closest(to: name, among: outcomes),
                            !items.contains(where: { $0.key == guess })
                        else { continue }
                        name = guess
                    }
                    record("\(path).on.\(name)", item.value)
                    guard let outcome = Outcome(rawValue: name) else { continue }
                    if outcome != .pass, case .mapping = item.value {
                        // `fail: { cause: target, ..., other: target }` routes by the observation's cause.
                        var routes: [String: String] = [:]
                        for route in self.entries(item.value, of: "'on.\(name)' of step '\(id)'", allowed: nil) ?? [] {
                            record("\(path).on.\(name).\(route.key)", route.value)
                            let target =
                                text(route.value, "where step '\(id)' goes on \(name) with cause \(route.key)") ?? ""
                            if route.key == "other" { next[outcome] = target } else { routes[route.key] = target }
                        }
                        causeRoutes[outcome] = routes
                        if next[outcome] == nil && outcome == .fail {
                            report(
                                item.value,
                                "'on.fail' of step '\(id)' routes by cause but has no 'other:' for the remaining causes"
                            )
                            next[outcome] = ""
                        }
                        continue
                    }
                    // An unusable target is reported here and kept empty, so it is not also reported as missing.
                    next[outcome] = text(item.value, "where step '\(id)' goes on \(name)") ?? ""
                }
            }
        } else {
            report(
                keyNode,
                "step '\(id)' has no 'on'; map pass and fail to a step or diagnosis, e.g. on: { pass: next-step, fail: some-diagnosis }"
            )
        }
        return Step(
            id: id, title: title, probe: kind, arguments: arguments, timeout: timeout, next: next,
            causeRoutes: causeRoutes)
    }

    /// An argument's value; the marks of nested items are recorded under `path.0`, `path.key`, ... so that a probe's
    /// error about one of them (`signatures.2.pattern`) points at it.
    mutating func decodeArgument(_ node: Node, at path: String) -> ArgumentValue? {
        switch node {
        case .scalar(let scalar): return .scalar(scalar.string)
        case .sequence(let sequence):
            return .list(
                sequence.enumerated().compactMap { index, item in
                    record("\(path).\(index)", item)
                    return decodeArgument(item, at: "\(path).\(index)")
                })
        case .mapping:
            guard let items = entries(node, of: "an argument", allowed: nil) else { return nil }
            var result: [String: ArgumentValue] = [:]
            for item in items {
                record("\(path).\(item.key)", item.value)
                result[item.key] = decodeArgument(item.value, at: "\(path).\(item.key)")
            }
            return .map(result)
        case .alias:
            report(node, "aliases are not supported in runbooks; write the value out")
            return nil
        }
    }

    mutating func decodeDiagnosis(_ id: String, keyNode: Node, _ node: Node) -> Diagnosis? {
        let path = "diagnoses.\(id)"
        record(path, keyNode)
        if !Self.isValidID(id) {
            report(keyNode, "diagnosis id '\(id)' must be a plain name: letters, digits, '-', '_' or '.'")
        }
        guard let entries = entries(node, of: "diagnosis '\(id)'", allowed: RunbookLoader.diagnosisKeys) else {
            return nil
        }
        var values: [String: Node] = [:]
        for entry in entries {
            values[entry.key] = entry.value
            record("\(path).\(entry.key)", entry.value)
        }
        var severity = Status.critical
        if let node = values["severity"] {
            if let text = text(node, "the severity of diagnosis '\(id)'") {
                if let parsed = Status(rawValue: text), Status.declarable.contains(parsed) {
                    severity = parsed
                } else {
                    let names = Status.declarable.map(\.rawValue)
                    report(
                        node,
                        "unknown severity '\(text)' for diagnosis '\(id)'\(didYouMean(text, among: names)); use ok, warning or critical"
                    )
                }
            }
        } else {
            report(keyNode, "diagnosis '\(id)' has no 'severity'; use ok, warning or critical")
        }
        var title = id
        if let node = values["title"] {
            title = text(node, "the title of diagnosis '\(id)'") ?? id
        } else {
            report(keyNode, "diagnosis '\(id)' has no 'title'; say in one line what is wrong")
        }
        let explain =
            values["explain"].flatMap { text($0, "the explanation of diagnosis '\(id)'", allowEmpty: true) } ?? ""
        var fix: [Fix] = []
        if let node = values["fix"] {
            switch node {
            case .sequence(let sequence):
                for (index, item) in sequence.enumerated() {
                    record("\(path).fix.\(index)", item)
                    if let entry = decodeFix(
                        item, path: "\(path).fix.\(index)", "fix \(index + 1) of diagnosis '\(id)'")
                    {
                        fix.append(entry)
                    }
                }
            case .scalar:
                if let command = text(node, "the fix of diagnosis '\(id)'") { fix = [Fix(command)] }
            default:
                report(node, "'fix' of diagnosis '\(id)' must be a list of commands")
            }
        }
        var follows: String?
        if let node = values["follows"], let runbook = text(node, "the runbook diagnosis '\(id)' follows") {
            if Self.isValidID(runbook) {
                follows = runbook
            } else {
                report(node, "'follows' of diagnosis '\(id)' must name a runbook by its id, e.g. backend-wont-start")
            }
        }
        return Diagnosis(id: id, title: title, severity: severity, explain: explain, fix: fix, follows: follows)
    }

    /// A fix: a command, or `{run: COMMAND, changes: true|false}` saying whether it changes the stack.
    mutating func decodeFix(_ node: Node, path: String, _ what: String) -> Fix? {
        guard case .mapping = node else { return text(node, what).map { Fix($0) } }
        guard let entries = entries(node, of: what, allowed: RunbookLoader.fixKeys) else { return nil }
        var values: [String: Node] = [:]
        for entry in entries {
            values[entry.key] = entry.value
            record("\(path).\(entry.key)", entry.value)
        }
        guard let runNode = values["run"] else {
            report(node, "\(what) has no 'run'; write {run: COMMAND, changes: true} or a plain command")
            return nil
        }
        var changes = false
        if let node = values["changes"] {
            guard case .scalar(let scalar) = node, let parsed = Bool(scalar.string.lowercased()) else {
                report(node, "'changes' of \(what) must be true or false, found \(describe(node))")
                return nil
            }
            changes = parsed
        }
        return text(runNode, "the command of \(what)").map { Fix($0, changesStack: changes) }
    }
}
