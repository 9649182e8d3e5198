import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process a test started; killed by its pid when stopped or released, so no test leaves one behind.
package final class TestProcess: @unchecked Sendable {
    /// The process id.
    package let pid: Int32
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    /// Starts `executable` with `arguments`, its output discarded.
    package init(_ executable: String, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        pid = process.processIdentifier
    }

    /// Kills the process by its pid and waits for it to end.
    package func stop() {
        let wasStopped = lock.withLock {
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Errors of the test helpers.
package struct TestSetupError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Network helpers for tests: loopback only.
package enum Loopback {
    /// A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, read, released).
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestSetupError("bind to port 0 failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The id of the process listening on a loopback TCP port, as `ss` tells it.
    package static func listener(port: Int) async -> Int32? {
        let listing = await ProcessRunner.run(["/usr/bin/ss", "-Hltnp", "sport = :\(port)"], timeout: .seconds(10))
        guard let found = listing.stdout.firstRange(of: "pid=") else { return nil }
        return Int32(listing.stdout[found.upperBound...].prefix { $0.isNumber })
    }

    /// Waits until `port` on `host` accepts connections.
    package static func waitUntilListening(host: String = "127.0.0.1", port: Int, within limit: Duration = hangGuard)
        async throws
    {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: limit)
        while clock.now < end {
            let accepted = await NetworkDeadline.offloaded(
                ProbeContext(timeout: .milliseconds(200), environment: [:], workingDirectory: "/")
            ) { deadline in
                guard case .success(let addresses) = Resolver.resolve(host, port: port, deadline: deadline) else {
                    return false
                }
                var attempts: [String] = []
                if case .success = TCPConnection.connect(to: addresses, deadline: deadline, attempts: &attempts) {
                    return true
                }
                return false
            }
            if accepted { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSetupError("nothing listened on \(host):\(port) within \(limit)")
    }

    /// A scratch folder removed by the caller.
    package static func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/diagnose-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSetupError("mkdtemp failed") }
        return String(cString: made)
    }
}
