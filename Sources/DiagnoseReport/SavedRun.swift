import DiagnoseRunbook
import Foundation
import Yams

/// A run saved as JSON, read back for `diagnose render`: a `diagnose.run/v1` run or a `diagnose.report/v1` report.
public enum SavedRun: Sendable, Hashable {
    /// A run, as `diagnose --format json` writes it.
    case run(RunReport)
    /// A handoff report, as `diagnose report` writes its JSON.
    case report(HandoffReport)

    /// The run, whichever was saved.
    public var run: RunReport {
        switch self {
        case .run(let run): run
        case .report(let report): report.run
        }
    }

    /// The handoff report: the saved one, or one made from a saved run, whose metadata it does not record.
    public var report: HandoffReport {
        switch self {
        case .report(let report): report
        case .run(let run):
            HandoffReport(
                run: run,
                metadata: HandoffReport.Metadata(
                    generatedAt: run.startedAt, host: Self.unrecorded, user: Self.unrecorded,
                    projectDirectory: Self.unrecorded, composeProject: Self.unrecorded, command: ""))
        }
    }

    /// What a report made from a run says of what the run does not record (host, user, project).
    public static let unrecorded = "not recorded"

    /// Reads the JSON text of `file`; a problem is an error located like a compiler's, `FILE:LINE:COLUMN`.
    public static func decode(_ data: Data, file: String) throws(SavedRunError) -> SavedRun {
        let text = String(decoding: data, as: UTF8.self)
        func at(_ offset: Int) -> SourceLocation { location(ofByte: offset, in: text, file: file) }
        do {
            _ = try JSONSerialization.jsonObject(with: data)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not JSON"
            let offset = reason.firstMatch(of: /character (\d+)/).flatMap { Int($0.1) } ?? data.count
            throw .notJSON(at(offset), reason: reason)
        }
        struct Header: Decodable { var schema: String? }
        let schema = (try? JSONDecoder.diagnose.decode(Header.self, from: data))?.schema
        do {
            switch schema {
            case RunReport.schemaName?: return .run(try JSONDecoder.diagnose.decode(RunReport.self, from: data))
            case HandoffReport.schemaName?:
                return .report(try JSONDecoder.diagnose.decode(HandoffReport.self, from: data))
            default: throw SavedRunError.otherSchema(SourceLocation(file: file, line: 1, column: 1), schema)
            }
        } catch let error as SavedRunError {
            throw error
        } catch let error as DecodingError {
            let (path, reason) = describe(error)
            throw .malformed(locate(path, in: text, file: file), reason: reason)
        } catch {
            throw .malformed(SourceLocation(file: file, line: 1, column: 1), reason: "\(error)")
        }
    }

    /// The coding path a decoding error points at (its container when a key is missing) and what is wrong there.
    static func describe(_ error: DecodingError) -> ([any CodingKey], String) {
        func dotted(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .keyNotFound(let key, let context):
            let container = dotted(context.codingPath)
            return (
                context.codingPath, "missing key '\(key.stringValue)'\(container.isEmpty ? "" : " in \(container)")"
            )
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return (context.codingPath, "\(dotted(context.codingPath)): \(context.debugDescription)")
        @unknown default:
            return ([], "\(error)")
        }
    }

    /// Where the value at a coding path starts, found by composing the JSON as YAML (a superset) for its marks.
    static func locate(_ path: [any CodingKey], in text: String, file: String) -> SourceLocation {
        guard var node = try? Yams.compose(yaml: text) else { return SourceLocation(file: file, line: 1, column: 1) }
        for key in path {
            let next: Node?
            if let index = key.intValue, let sequence = node.sequence, sequence.indices.contains(index) {
                next = sequence[index]
            } else {
                next = node.mapping?[key.stringValue]
            }
            guard let next else { break }
            node = next
        }
        return SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// The line and column (from 1, in bytes) of a byte offset.
    static func location(ofByte offset: Int, in text: String, file: String) -> SourceLocation {
        let before = text.utf8.prefix(offset)
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = before.reversed().prefix { $0 != UInt8(ascii: "\n") }.count + 1
        return SourceLocation(file: file, line: line, column: column)
    }
}

/// Why a file cannot be rendered.
public enum SavedRunError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is not JSON; where the parser stopped.
    case notJSON(SourceLocation, reason: String)
    /// The file is JSON without a schema diagnose renders.
    case otherSchema(SourceLocation, String?)
    /// The file has a known schema but a value is missing or of the wrong type.
    case malformed(SourceLocation, reason: String)

    public var description: String {
        switch self {
        case .notJSON(let location, let reason):
            "\(location): error: not JSON (\(reason)); pass the JSON of `diagnose --format json` or `diagnose report`"
        case .otherSchema(let location, let schema):
            "\(location): error: "
                + (schema.map { "schema '\($0)' is" } ?? "no 'schema' key:")
                + " not \(RunReport.schemaName) or \(HandoffReport.schemaName)"
        case .malformed(let location, let reason):
            "\(location): error: \(reason)"
        }
    }
}
