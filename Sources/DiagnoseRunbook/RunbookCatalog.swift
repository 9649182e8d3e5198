import DiagnosePlatform
import DiagnoseProbes
import Foundation

/// The runbooks of a folder or of given files, with ids checked for uniqueness across files.
public struct RunbookCatalog: Sendable {
    /// Runbooks in id order.
    public var runbooks: [Runbook]
    /// Every finding in every file, sorted by file and position.
    public var findings: [Finding]
    /// Files that could not be read.
    public var unreadable: [RunbookError]
    /// Advice on valid runbooks (fixes that look state-changing but are not marked), in file order.
    public var warnings: [Finding] = []

    /// Whether a command-line reference names a runbook file rather than an id.
    public static func isFile(_ reference: String) -> Bool {
        reference.contains("/") || reference.hasSuffix(".yml") || reference.hasSuffix(".yaml")
    }

    /// Whether every reference, and at least one, names a file: then the files are the selection.
    public static func areFiles(_ references: [String]) -> Bool {
        !references.isEmpty && references.allSatisfy(isFile)
    }

    /// Loads every `.yml`/`.yaml` file of the given paths; a folder contributes its runbook files. `progress`, when
    /// given, is told which file is being read and parsed.
    public static func load(
        _ paths: [String], loader: RunbookLoader = RunbookLoader(), progress: LoadProgress? = nil
    ) -> RunbookCatalog {
        var files: [String] = []
        var unreadable: [RunbookError] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                unreadable.append(.unreadable(path: path, reason: "no such file or folder"))
                continue
            }
            if isDirectory.boolValue {
                progress?.enter("listing the folder \(path)")
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                    unreadable.append(.unreadable(path: path, reason: "cannot list the folder (check its permissions)"))
                    continue
                }
                let base = path.hasSuffix("/") ? String(path.dropLast()) : path
                files += names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { "\(base)/\($0)" }
            } else {
                files.append(path)
            }
        }

        var runbooks: [Runbook] = []
        var findings: [Finding] = []
        var firstByID: [String: Runbook] = [:]
        for (index, file) in files.enumerated() {
            let position = "\(file) (file \(index + 1) of \(files.count))"
            progress?.enter("reading \(position)")
            let text: String
            do {
                text = try RunbookLoader.read(file)
            } catch {
                if case .invalid(let located) = error { findings += located } else { unreadable.append(error) }
                continue
            }
            progress?.enter("parsing \(position)")
            let (runbook, fileFindings) = loader.parse(text, file: file)
            findings += fileFindings
            guard let runbook else { continue }
            if let first = firstByID[runbook.id] {
                findings.append(
                    Finding(
                        runbook.source.location("id"),
                        "runbook id '\(runbook.id)' is already used by \(first.source.file); runbook ids must be unique"
                    ))
                continue
            }
            firstByID[runbook.id] = runbook
            if fileFindings.isEmpty { runbooks.append(runbook) }
        }
        progress?.enter("checking the \(runbooks.count) runbooks read")
        return RunbookCatalog(
            runbooks: runbooks.sorted { $0.id < $1.id }, findings: RunbookLoader.sorted(findings),
            unreadable: unreadable, warnings: RunbookLoader.sorted(runbooks.flatMap(\.unmarkedStateChanges)))
    }

    /// Whether every file was read and is valid.
    public var isValid: Bool { findings.isEmpty && unreadable.isEmpty }

    /// The runbook with this id, if any.
    public func runbook(_ id: String) -> Runbook? { runbooks.first { $0.id == id } }
}
