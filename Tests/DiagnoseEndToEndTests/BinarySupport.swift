import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Glibc

/// Runs the binary with arguments in a folder, with the environment given added to this process's (the same
/// runner as `diagnose(_:in:environment:)`, kept under this name for the report tests).
func runReportBinary(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> Run {
    await diagnose(arguments, in: folder, environment: environment)
}

/// Starts the binary; `finish` waits for it.
func launch(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: diagnoseBinary)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    var merged = ProcessInfo.processInfo.environment
    merged["NO_COLOR"] = "1"
    merged.removeValue(forKey: "DIAGNOSE_RUNBOOKS")
    for (name, value) in environment { merged[name] = value }
    process.environment = merged
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

/// Waits for a launched binary and collects its output, off the cooperative pool.
func finish(_ process: Process) async -> Run {
    let box = UncheckedProcess(process)
    return await offload { finishBlocking(box.process) }
}

/// A Process handed to the waiting thread; nothing else touches it meanwhile.
struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

/// How long one run of the binary may last before the test kills it: a guard against a hang (the test then fails on
/// its exit status instead of never ending), not a measure of speed.
let hangGuard = Duration.seconds(120)

func finishBlocking(_ process: Process) -> Run {
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(hangGuard.components.seconds)), execute: watchdog)
    defer { watchdog.cancel() }
    let stdout = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
    let stderr = (process.standardError as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
    process.waitUntilExit()
    return Run(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes text to a file in a folder, creating subfolders.
func plant(_ text: String, at name: String, in folder: URL) throws {
    let url = folder.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// The probe tests' loopback HTTP server (`DiagnoseProbesTests/Fixtures/http_server.py`), killed by its pid on `stop`.
struct FixtureHTTPServer {
    let process: Process
    /// The port of its `http` listener.
    let port: Int

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DiagnoseProbesTests/Fixtures/http_server.py")

    /// Starts the server and reads the ports it prints once listening.
    init() throws {
        struct Ports: Decodable { let http: Int }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", Self.script.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(output.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        port = try JSONDecoder().decode(Ports.self, from: Data(line)).http
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Something other than a regular file, made for real at a path: what `report --force` and `--output` must refuse,
/// and what a runbooks folder must not block on.
enum SpecialFile: String, CaseIterable, CustomStringConvertible {
    /// `mknod PATH c 1 3`, a device node equal to /dev/null (needs root, as these tests run).
    case characterDevice
    /// `mkfifo PATH`: a reader blocks until someone writes.
    case fifo
    /// A bound unix socket, left behind by its closed listener.
    case socket
    case folder
    /// A symbolic link to a character device made as above, beside it.
    case linkToDevice

    var description: String { rawValue }

    /// What the refusal calls it.
    var kind: String {
        switch self {
        case .characterDevice: "a character device"
        case .fifo: "a FIFO (named pipe)"
        case .socket: "a socket"
        case .folder: "a folder"
        case .linkToDevice: "a symbolic link to a character device"
        }
    }

    /// Makes it at `path`; throws when the system refuses.
    func make(at path: String) throws {
        struct Refused: Error { let what: String }
        let status: Int32
        switch self {
        case .characterDevice: status = mknod(path, S_IFCHR | 0o666, dev_t(1 << 8 | 3))
        case .fifo: status = mkfifo(path, 0o644)
        case .folder: status = mkdir(path, 0o755)
        case .linkToDevice:
            try SpecialFile.characterDevice.make(at: path + ".device")
            status = symlink(path + ".device", path)
        case .socket:
            let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
            }
            status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            close(descriptor)
        }
        guard status == 0 else { throw Refused(what: "\(self) at \(path): \(String(cString: strerror(errno)))") }
    }

    /// The file type bits at `path` itself (a link not followed).
    static func type(at path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & S_IFMT
    }
}
