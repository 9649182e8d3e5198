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
