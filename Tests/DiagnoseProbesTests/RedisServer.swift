import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation

/// A real `redis-server` on a free loopback port, in a scratch folder; killed by its pid when stopped or released.
final class RedisServer: Sendable {
    /// The port it listens on.
    let port: Int
    /// Its scratch folder (dump files, logs).
    let directory: String
    private let process: TestProcess

    /// Starts redis-server with extra configuration arguments such as `--requirepass`, and waits until it listens.
    ///
    /// A free port is only free until someone binds it: when another process takes it first, this server exits and
    /// the start is tried again on another port: a listener is taken as this server only when it reports this process's id.
    static func start(_ arguments: [String] = [], directory: String? = nil) async throws -> RedisServer {
        for _ in 0..<5 {
            let directory = try directory ?? Loopback.temporaryDirectory()
            let port = try Loopback.freePort()
            let process = try TestProcess(
                "/usr/bin/redis-server",
                [
                    "--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no", "--save", "", "--appendonly",
                    "no", "--dir", directory, "--logfile", "",
                ] + arguments)
            let server = RedisServer(port: port, directory: directory, process: process)
            try await Loopback.waitUntilListening(port: port)
            if await Loopback.listener(port: port) == process.pid { return server }
        }
        throw TestSetupError("redis-server lost its port to another process five times in a row")
    }

    /// Starts a server still loading its dataset for about ten seconds: a dump of 1000 keys loaded at 10 ms a key;
    /// it answers clients (with -LOADING) every kilobyte of the dump.
    static func startLoading() async throws -> RedisServer {
        let seed = try await RedisServer.start(["--enable-debug-command", "local"])
        try await seed.cli(["DEBUG", "POPULATE", "1000", "key", "100"])
        try await seed.cli(["SAVE"])
        seed.stop()
        // The seed removes its folder when released: the loading server gets a copy of the dump in its own.
        let directory = try Loopback.temporaryDirectory()
        try FileManager.default.copyItem(atPath: seed.directory + "/dump.rdb", toPath: directory + "/dump.rdb")
        return try await RedisServer.start(
            [
                "--dbfilename", "dump.rdb", "--key-load-delay", "10000", "--loading-process-events-interval-bytes",
                "1024",
            ],
            directory: directory)
    }

    private init(port: Int, directory: String, process: TestProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// Runs `redis-cli` against this server and returns its output.
    @discardableResult
    func cli(_ arguments: [String], password: String? = nil) async throws -> String {
        let auth = password.map { ["--no-auth-warning", "-a", $0] } ?? []
        let result = await ProcessRunner.run(
            ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", String(port)] + auth + arguments, timeout: .seconds(10))
        guard result.exitStatus == 0 else { throw TestSetupError("redis-cli \(arguments) failed: \(result.stderr)") }
        return result.stdout
    }

    /// Kills the server by its pid.
    func stop() { process.stop() }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
