import DiagnosePlatform
import Foundation

/// Whether a program is on PATH: the real consumers of the output formats (promtool, xmllint, python3's jsonschema)
/// that scripts/setup.sh installs; a test skips, saying so, only when one is missing.
package func isInstalled(_ program: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
}

/// What a consumer said of a text: its exit status and its standard output and error, merged.
package struct Verdict: Sendable, CustomStringConvertible {
    /// The exit status, nil when it did not exit by itself.
    package var status: Int32?
    /// Standard output and standard error, in order.
    package var output: String

    package var description: String { "exit \(status.map(String.init) ?? "none"): \(output)" }
}

/// Runs `argv` with `text` on its standard input (from a temporary file), as `promtool check metrics < FILE`.
package func check(_ text: String, with argv: [String]) async throws -> Verdict {
    let folder = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("input")
    try text.write(to: input, atomically: true, encoding: .utf8)
    let result = await ProcessRunner.run(
        ["/bin/sh", "-c", "input=$1; shift; exec \"$@\" < \"$input\"", "sh", input.path] + argv,
        timeout: hangGuard, mergingStandardError: true)
    return Verdict(status: result.exitStatus, output: result.stdout)
}

/// Whether python3 can import jsonschema (Debian's python3-jsonschema), which `docs/schemas/validate.py` needs.
package let hasJSONSchema: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import jsonschema"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// The package's root folder, from this file's place in the source tree.
package let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// What `docs/schemas/validate.py` says of JSON texts against a published schema (`run.v1`, `report.v1`).
package func validate(_ documents: [String], against schema: String) async throws -> Verdict {
    let folder = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    var paths: [String] = []
    for (index, document) in documents.enumerated() {
        let path = folder.appendingPathComponent("document-\(index).json").path
        try document.write(toFile: path, atomically: true, encoding: .utf8)
        paths.append(path)
    }
    let schemas = packageRoot.appendingPathComponent("docs/schemas")
    let result = await ProcessRunner.run(
        [
            "python3", schemas.appendingPathComponent("validate.py").path,
            schemas.appendingPathComponent("\(schema).schema.json").path,
        ] + paths,
        timeout: hangGuard, mergingStandardError: true)
    return Verdict(status: result.exitStatus, output: result.stdout)
}
