import DiagnoseTestSupport
import Foundation

/// A misbehaving TCP server on loopback (Fixtures/hostile_server.py), for tests of network probes and their
/// timeouts; killed by its pid when stopped or released.
final class HostileServer: Sendable {
    /// How the server misbehaves; see hostile_server.py.
    enum Mode: String, Sendable {
        case silent, drip, endless, random, reset, abort, http, resp, full
    }

    /// The port it listens on.
    let port: Int
    /// The address it listens on.
    let host: String
    private let process: TestProcess
    private let directory: String

    /// Starts the server in `mode` on `host` (127.0.0.1 or ::1) and waits until it is ready; `reply` and `prefix`
    /// are passed as `--reply` and `--prefix`.
    init(_ mode: Mode, host: String = "127.0.0.1", reply: String? = nil, prefix: String? = nil) async throws {
        guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw TestSetupError("the Fixtures resource folder is missing")
        }
        let script = fixtures.appendingPathComponent("hostile_server.py").path
        directory = try Loopback.temporaryDirectory()
        let portFile = directory + "/port"
        let extra = (reply.map { ["--reply", $0] } ?? []) + (prefix.map { ["--prefix", $0] } ?? [])
        process = try TestProcess(
            "/usr/bin/env", ["python3", script, mode.rawValue, "--port-file", portFile, "--host", host] + extra)
        self.host = host
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .seconds(10))
        var port: Int?
        while port == nil, clock.now < end {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard let port else {
            process.stop()
            throw TestSetupError("hostile_server.py \(mode) did not report its port")
        }
        self.port = port
    }

    /// Kills the server by its pid.
    func stop() { process.stop() }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
