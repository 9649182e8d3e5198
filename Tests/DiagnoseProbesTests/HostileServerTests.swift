import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Synchronization
import Testing

/// Every probe kind that talks to a server, against every way a server can misbehave: each ends with the exact cause
/// (a timeout cause says its own deadline ended it; `hangGuard` only catches a hang, it measures no speed), and reads
/// no more than its cap however much the server sends.
@Suite(.serialized) struct HostileServerTests {
    /// A probe kind that talks to a server over TCP.
    enum Kind: String, Sendable {
        case redis, http, tcp

        func arguments(port: Int) -> [String: ArgumentValue] {
            switch self {
            case .redis: ["url": .scalar("redis://127.0.0.1:\(port)")]
            case .http: ["url": .scalar("http://127.0.0.1:\(port)/health")]
            case .tcp: ["host": .scalar("127.0.0.1"), "port": .scalar(String(port))]
            }
        }

        var probeKind: ProbeKind {
            switch self {
            case .redis: .redis
            case .http: .http
            case .tcp: .tcp
            }
        }
    }

    /// One cell of the matrix: a probe kind against a hostile mode, and the cause it must give (nil: pass).
    struct Cell: Sendable, CustomTestStringConvertible {
        var kind: Kind
        var mode: HostileServer.Mode
        var cause: String?
        var reply: String? = nil
        var prefix: String? = nil

        var testDescription: String { "\(kind) vs \(mode) -> \(cause ?? "pass")" }
    }

    static let httpHead = "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n"
    static let timeout: Duration = .seconds(1)

    static let cells: [Cell] = [
        // redis: RESP over its own socket code.
        Cell(kind: .redis, mode: .silent, cause: "reply-timeout"),
        Cell(kind: .redis, mode: .drip, cause: "reply-timeout"),
        Cell(kind: .redis, mode: .endless, cause: "not-redis"),
        Cell(kind: .redis, mode: .random, cause: "not-redis"),
        Cell(kind: .redis, mode: .reset, cause: "connection-reset"),
        Cell(kind: .redis, mode: .abort, cause: "connection-reset"),
        Cell(kind: .redis, mode: .http, cause: "not-redis"),
        // http: libcurl.
        Cell(kind: .http, mode: .silent, cause: "timeout"),
        Cell(kind: .http, mode: .drip, cause: "timeout", reply: "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"),
        Cell(kind: .http, mode: .endless, cause: nil, prefix: httpHead),
        Cell(kind: .http, mode: .random, cause: "bad-reply"),
        Cell(kind: .http, mode: .reset, cause: "connection-reset"),
        Cell(kind: .http, mode: .abort, cause: "connection-reset"),
        Cell(kind: .http, mode: .resp, cause: "bad-reply"),
        // tcp only connects: every listener that accepts passes, whatever it does next.
        Cell(kind: .tcp, mode: .silent, cause: nil),
        Cell(kind: .tcp, mode: .drip, cause: nil),
        Cell(kind: .tcp, mode: .endless, cause: nil),
        Cell(kind: .tcp, mode: .random, cause: nil),
        Cell(kind: .tcp, mode: .reset, cause: nil),
        Cell(kind: .tcp, mode: .abort, cause: nil),
        Cell(kind: .tcp, mode: .http, cause: nil),
        Cell(kind: .tcp, mode: .resp, cause: nil),
    ]

    func observe(_ kind: Kind, port: Int, timeout: Duration = timeout) async throws -> (Observation, Duration) {
        let probe = try kind.probeKind.make(ProbeArguments(kind.arguments(port: port)))
        let context = ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/")
        let clock = ContinuousClock()
        let began = clock.now
        let observation = await probe.run(context)
        return (observation, began.duration(to: clock.now))
    }

    @Test(arguments: cells)
    func aProbeEndsOnTimeWithTheExactCause(_ cell: Cell) async throws {
        let server = try await HostileServer(cell.mode, reply: cell.reply, prefix: cell.prefix)
        let (observation, took) = try await observe(cell.kind, port: server.port)
        #expect(took < hangGuard, "took \(took)")
        #expect(observation.cause == cell.cause, "\(observation.summary)")
        #expect(observation.outcome == (cell.cause == nil ? .pass : .fail), "\(observation.summary)")
    }

    /// Resident memory of this process, from /proc/self/status.
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// Keeps the highest resident size seen until stopped.
    final class PeakSampler: Sendable {
        private let peak = Atomic<Int>(0)
        private let running = Atomic<Bool>(true)

        func run() async {
            while running.load(ordering: .relaxed) {
                let now = HostileServerTests.residentBytes()
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }

        func stop() -> Int {
            running.store(false, ordering: .relaxed)
            return peak.load(ordering: .relaxed)
        }
    }

    /// Servers that never stop sending, probed again and again for several seconds: the process's resident
    /// size stays flat because redis stops at 1 MiB and http at 256 KiB, whatever arrives.
    @Test func memoryStaysFlatHoweverMuchTheServerSends() async throws {
        let resp = try await HostileServer(.endless)
        let http = try await HostileServer(.endless, prefix: Self.httpHead)
        // One run of each first, so one-time allocations (libcurl, the resolver) are not counted as growth.
        _ = try await observe(.redis, port: resp.port)
        _ = try await observe(.http, port: http.port)
        let before = Self.residentBytes()
        let sampler = PeakSampler()
        let sampling = Task { await sampler.run() }

        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .seconds(4))
        var runs = 0
        while clock.now < end {
            let (redis, _) = try await observe(.redis, port: resp.port, timeout: .seconds(3))
            #expect(redis.cause == "not-redis")
            #expect(redis.summary.contains("exceeds \(RedisExchange.maxReplyBytes) bytes"), "\(redis.summary)")
            let (web, _) = try await observe(.http, port: http.port, timeout: .seconds(3))
            #expect(web.outcome == .pass)
            #expect(web.evidence.contains { $0.contains("stopped reading at the 256 KiB limit") }, "\(web.evidence)")
            runs += 1
        }
        let peak = max(sampler.stop(), Self.residentBytes())
        await sampling.value
        let growth = peak - before
        #expect(runs >= 3, "only \(runs) rounds ran in 4 s")
        #expect(before > 0, "VmRSS could not be read")
        #expect(growth < 32 << 20, "resident size grew by \(growth >> 20) MiB over \(runs) rounds")
    }
}
