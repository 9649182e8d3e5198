import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Loading the runbooks through the built binary: what is not a regular file in the folder is refused without being
/// opened for a blocking read, and `--deadline` bounds loading as well as running.
@Suite struct LoadingTests {
    static let refusal = "not a regular file; a runbook must be a regular file"

    /// A folder holding one good runbook, a FIFO, a unix socket and a character device, each named like a runbook.
    func specialFilesWorkspace() throws -> URL {
        let folder = try workspace(["runbooks/good.yml": commandRunbook("true")])
        let runbooks = folder.appendingPathComponent("runbooks").path
        #expect(mkfifo("\(runbooks)/fifo.yml", 0o644) == 0)
        // The device is /dev/null's (major 1, minor 3, as glibc encodes them): reading it would not block, so only the
        // refusal keeps it out.
        #expect(mknod("\(runbooks)/device.yml", S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0)
        try bindUnixSocket(at: "\(runbooks)/socket.yml")
        return folder
    }

    @Test func listShowsTheGoodRunbooksAndRefusesEachSpecialFile() async throws {
        let folder = try specialFilesWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["list"], in: folder)
        #expect(run.status == 65)
        #expect(run.stdout.contains("good"))
        #expect(run.stderr.contains("runbooks/fifo.yml: error: is a FIFO (named pipe), \(Self.refusal)"))
        #expect(run.stderr.contains("runbooks/socket.yml: error: is a socket, \(Self.refusal)"))
        #expect(run.stderr.contains("runbooks/device.yml: error: is a character device, \(Self.refusal)"))
        #expect(run.stderr.contains("3 problem(s) in the runbooks"))
    }

    @Test(arguments: [["validate"], ["--all"], ["validate", "runbooks/fifo.yml"], ["runbooks/fifo.yml"]])
    func specialFilesEndWithTheirErrorInsteadOfBlocking(_ arguments: [String]) async throws {
        let folder = try specialFilesWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(arguments, in: folder)
        #expect(run.status == 65)
        #expect(run.stderr.contains("runbooks/fifo.yml: error: is a FIFO (named pipe), \(Self.refusal)"))
    }

    @Test func aFIFOGivenAsTheRunbooksFolderIsNoFolder() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(mkfifo(folder.appendingPathComponent("runbooks").path, 0o644) == 0)
        let run = await diagnose(["--all", "--runbooks", "runbooks"], in: folder)
        #expect(run.status == 64)
        #expect(run.stderr.contains("no runbooks folder at 'runbooks'"))
    }

    /// One runbook of a 100 000-step chain: seconds to load in a debug build, far beyond the deadline given.
    func hugeChainWorkspace() throws -> URL {
        let steps = 100_000
        var lines = ["title: Chain", "description: A very long chain.", "start: s0", "steps:"]
        lines.reserveCapacity(steps + 6)
        for step in 0..<steps {
            let next = step + 1 < steps ? "s\(step + 1)" : "d"
            lines.append("  s\(step): {title: t,probe: command,with: {shell: x},on: {pass: \(next),fail: d}}")
        }
        lines += ["diagnoses:", "  d: {severity: ok, title: Done}", ""]
        return try workspace(["runbooks/chain.yml": lines.joined(separator: "\n")])
    }

    @Test(arguments: ["json", "text"])
    func aDeadlineReachedWhileLoadingEndsInconclusive(_ format: String) async throws {
        let folder = try hugeChainWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["--all", "--deadline", "50ms", "--format", format], in: folder)
        #expect(run.status == 3)
        #expect(run.stdout.contains("Deadline of 50ms reached while loading the runbooks"))
        #expect(run.stdout.contains("runbooks/chain.yml (file 1 of 1)"))
        if format == "json" {
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(report?["stopped"] as? String == "deadline")
            #expect(report?["status"] as? String == "unknown")
            let runbooks = report?["runbooks"] as? [[String: Any]]
            #expect((runbooks?.first?["diagnosis"] as? [String: Any])?["id"] as? String == "incomplete")
        }
    }

    @Test func aDeadlineReachedWhileLoadingNamesTheRunbooksAskedFor() async throws {
        let folder = try hugeChainWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(["chain", "--deadline", "50ms", "--format", "nagios"], in: folder)
        #expect(run.status == 3)
        #expect(run.stdout.hasPrefix("DIAGNOSE UNKNOWN"))
        #expect(run.stdout.contains("chain"))
    }

    @Test func aReportWhoseLoadingOutlastsTheDeadlineIsWrittenInconclusive() async throws {
        let folder = try hugeChainWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = await diagnose(
            ["report", "--deadline", "50ms", "--set", "API_TOKEN=hunter2-secret", "--output", "r.md"], in: folder)
        #expect(run.status == 3)
        let markdown = try String(contentsOf: folder.appendingPathComponent("r.md"), encoding: .utf8)
        let json = try String(contentsOf: folder.appendingPathComponent("r.json"), encoding: .utf8)
        #expect(markdown.contains("Deadline of 50ms reached while loading the runbooks"))
        #expect(json.contains("\"stopped\" : \"deadline\""))
        // The command line is in the report's metadata: the secret --set value must be hidden there too.
        #expect(!markdown.contains("hunter2-secret") && !json.contains("hunter2-secret"))
    }
}

/// Binds a unix socket at `path`, leaving the socket file behind once the descriptor is closed.
func bindUnixSocket(at path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    #expect(bound == 0)
}
