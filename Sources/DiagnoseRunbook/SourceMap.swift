import DiagnosePlatform
import DiagnoseProbes

/// A position in a runbook file.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file's path as given.
    public var file: String
    /// Line, from 1.
    public var line: Int
    /// Column, from 1.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Where each part of a runbook sits in its file, keyed by a dotted path such as `steps.ping.on.pass`.
public struct SourceMap: Sendable, Hashable {
    /// The file's path as given.
    public var file: String
    var marks: [String: SourceLocation] = [:]

    /// Creates an empty map for a file.
    public init(file: String) { self.file = file }

    /// The location of the part at this path, else of its nearest recorded parent, else the file's start.
    public func location(_ path: String) -> SourceLocation {
        var key = Substring(path)
        while true {
            if let found = marks[String(key)] { return found }
            guard let dot = key.lastIndex(of: ".") else { break }
            key = key[..<dot]
        }
        return marks[""] ?? SourceLocation(file: file, line: 1, column: 1)
    }

    /// Whether the file has the part at exactly this path.
    public func has(_ path: String) -> Bool { marks[path] != nil }

    mutating func record(_ path: String, line: Int, column: Int) {
        marks[path] = SourceLocation(file: file, line: line, column: column)
    }
}

/// A problem found in a runbook, printed like a compiler's error or warning.
public struct Finding: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong and, where possible, what to do.
    public var message: String
    /// An error makes the runbook invalid; a warning is advice, and the runbook still runs.
    public var severity: Severity

    /// How much a finding matters.
    public enum Severity: String, Sendable, Hashable {
        /// The runbook is invalid.
        case error
        /// The runbook is valid, but probably not what its author meant.
        case warning
    }

    /// Creates a finding.
    public init(_ location: SourceLocation, _ message: String, severity: Severity = .error) {
        self.location = location
        self.message = message
        self.severity = severity
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}
