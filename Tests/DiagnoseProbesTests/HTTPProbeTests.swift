import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fixtures/http_server.py as a child process, listening on free loopback ports until `stop()` kills it by pid.
struct TestServer {
    let process: Process
    /// The HTTP server's port.
    let port: Int
    /// A port nothing listens on.
    let closedPort: Int
    /// A listener whose accept queue is full.
    let fullPort: Int
    /// A listener that accepts and then says nothing.
    let silentPort: Int

    struct Ports: Decodable {
        let http: Int
        let closed: Int
        let full: Int
        let silent: Int
    }

    enum StartError: Error { case noScript, noPorts(String) }

    static func start() async throws -> TestServer {
        guard let script = Bundle.module.url(forResource: "http_server", withExtension: "py", subdirectory: "Fixtures")
        else { throw StartError.noScript }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The server prints its ports once it listens; until then there is nothing to connect to.
        let fd = output.fileHandleForReading.fileDescriptor
        let line = await offload { readLine(fd) }
        guard let ports = try? JSONDecoder().decode(Ports.self, from: Data(line.utf8)) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw StartError.noPorts(line)
        }
        return TestServer(
            process: process, port: ports.http, closedPort: ports.closed, fullPort: ports.full, silentPort: ports.silent
        )
    }

    private static func readLine(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Builds the probe as a runbook step would and runs it.
func observeHTTP(
    _ arguments: [String: ArgumentValue], timeout: Duration = .seconds(5),
    cancellation: CancellationFlag = CancellationFlag()
) async throws -> Observation {
    let probe = try ProbeKind.http.make(ProbeArguments(arguments))
    let context = ProbeContext(timeout: timeout, environment: [:], workingDirectory: "/", cancellation: cancellation)
    return await probe.run(context)
}

/// How long `work` took.
func timed<T>(_ work: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let began = clock.now
    let result = try await work()
    return (result, began.duration(to: clock.now))
}

extension Observation {
    var allEvidence: String { evidence.joined(separator: "\n") }
}

@Suite struct HTTPProbeTests {
    @Test func passesOnAHealthyJSONReplyWithTimingAndBody() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/ok")), "body_contains": .scalar(#""status":"ok""#),
            "body_matches": .scalar(#"^\{"status":\s*"ok"\}$"#),
        ])
        #expect(observation.outcome == .pass)
        #expect(observation.cause == nil)
        #expect(observation.summary.hasPrefix("GET \(server.url("/ok")) answered 200 in "))
        #expect(observation.evidence.first == "GET \(server.url("/ok"))")
        #expect(observation.evidence.contains("HTTP 200 from 127.0.0.1:\(server.port)"))
        #expect(observation.evidence.contains(#"body (15 bytes): {"status":"ok"}"#))
        let timing = try #require(observation.evidence.first { $0.hasPrefix("timing: ") })
        for phase in ["dns ", "connect ", "first byte ", "total "] { #expect(timing.contains(phase)) }
        #expect(!timing.contains("tls"))
    }

    @Test func failsWithStatusAndShowsTheBodyOn503() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar(server.url("/unhealthy"))])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "status")
        #expect(observation.summary.contains("answered 503"))
        #expect(observation.summary.contains(#"expected 2xx: {"detail":"Redis not reachable"}"#))
        #expect(observation.evidence.contains(#"body (32 bytes): {"detail":"Redis not reachable"}"#))
        #expect(observation.evidence.contains("HTTP 503 from 127.0.0.1:\(server.port)"))
    }

    @Test(arguments: [
        ArgumentValue.scalar("503"), .scalar("500-599"), .scalar("5xx"), .list([.scalar("200"), .scalar("503")]),
        .scalar("200, 503"),
    ])
    func passesWhenTheStatusIsExpected(_ expected: ArgumentValue) async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar(server.url("/unhealthy")), "expect_status": expected])
        #expect(observation.outcome == .pass)
    }

    @Test func statusSetsReadAsWritten() throws {
        #expect(HTTPProbe.StatusSet.success.description == "2xx")
        let set = try HTTPProbe.StatusSet(parsing: ["200", "301-308", "5xx"])
        #expect(set.description == "200, 301-308, 5xx")
        #expect(set.contains(200) && set.contains(304) && set.contains(599))
        #expect(!set.contains(201) && !set.contains(404))
        for bad in ["20", "600", "299-200", "ok", "6xx", "200-", ""] {
            #expect(throws: ProbeArgumentError.self) { try HTTPProbe.StatusSet(parsing: [bad]) }
        }
    }

    @Test func failsWithBodyMismatch() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let contains = try await observeHTTP(["url": .scalar(server.url("/ok")), "body_contains": .scalar("healthy")])
        #expect(contains.outcome == .fail)
        #expect(contains.cause == "body-mismatch")
        #expect(contains.summary.hasSuffix("but the body does not contain 'healthy'"))
        #expect(contains.evidence.contains(#"body (15 bytes): {"status":"ok"}"#))

        let matches = try await observeHTTP(["url": .scalar(server.url("/ok")), "body_matches": .scalar("^OK$")])
        #expect(matches.cause == "body-mismatch")
        #expect(matches.summary.hasSuffix("does not match /^OK$/"))
    }

    @Test func connectionRefusedOnAClosedPort() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar("http://127.0.0.1:\(server.closedPort)/health")])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connection-refused")
        #expect(observation.summary == "connection to 127.0.0.1:\(server.closedPort) refused: nothing listens there")
        #expect(observation.allEvidence.contains("curl: "))
    }

    @Test func dnsFailureForAnInvalidName() async throws {
        let observation = try await observeHTTP(
            ["url": .scalar("http://\(unresolvableHost)/health")], timeout: .seconds(3))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "dns-failure")
        #expect(observation.summary.contains(unresolvableHost))
    }

    @Test func timeoutWhenTheServerNeverAnswers() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let (observation, took) = try await timed {
            try await observeHTTP(["url": .scalar(server.url("/hang"))], timeout: .seconds(1))
        }
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "timeout")
        #expect(observation.summary == "connected to 127.0.0.1:\(server.port) but no response arrived within 1s")
        #expect(took < hangGuard)
    }

    @Test func timeoutWhenTheTLSHandshakeNeverFinishes() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let (observation, took) = try await timed {
            try await observeHTTP(["url": .scalar("https://127.0.0.1:\(server.silentPort)/")], timeout: .seconds(1))
        }
        #expect(observation.cause == "timeout")
        #expect(
            observation.summary
                == "connected to 127.0.0.1:\(server.silentPort) but the TLS handshake did not finish within 1s")
        #expect(took < hangGuard)
    }

    @Test func connectTimeoutWhenTheAcceptQueueIsFull() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let (observation, took) = try await timed {
            try await observeHTTP(["url": .scalar("http://127.0.0.1:\(server.fullPort)/")], timeout: .seconds(1))
        }
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "connect-timeout")
        #expect(observation.summary.hasPrefix("no connection to 127.0.0.1:\(server.fullPort) within 1s"))
        #expect(took < hangGuard)
    }

    @Test func tlsFailureWhenSpeakingTLSToPlainHTTP() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar("https://127.0.0.1:\(server.port)/ok")])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "tls-failure")
        #expect(observation.summary.hasPrefix("TLS with 127.0.0.1:\(server.port) failed: "))
        let timing = try #require(observation.evidence.first { $0.hasPrefix("timing: ") })
        #expect(timing.contains("tls -"))
    }

    @Test func emptyReplyWhenTheServerClosesWithoutAnswering() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar(server.url("/close"))])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "empty-reply")
        #expect(observation.summary == "127.0.0.1:\(server.port) closed the connection without answering")
    }

    @Test func anEndlessBodyIsReadUpToTheLimitAndJudged() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let (observation, took) = try await timed {
            try await observeHTTP(
                ["url": .scalar(server.url("/endless")), "body_contains": .scalar("xxx")], timeout: .seconds(3))
        }
        #expect(observation.outcome == .pass)
        let body = try #require(observation.evidence.first { $0.hasPrefix("body ") })
        #expect(body.contains("stopped reading at the 256 KiB limit, \(HTTPProbe.readLimit) bytes read"))
        #expect(body.count < HTTPProbe.shownLimit + 200)
        #expect(took < hangGuard)

        let mismatch = try await observeHTTP(
            ["url": .scalar(server.url("/endless")), "body_contains": .scalar("y")], timeout: .seconds(3))
        #expect(mismatch.cause == "body-mismatch")
        #expect(mismatch.summary.hasSuffix("(judged on its first 256 KiB)"))
    }

    @Test func retriesUntilTheServiceIsHealthy() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/healthy-after/3")), "retries": .scalar("10"), "interval": .scalar("100ms"),
        ])
        #expect(observation.outcome == .pass)
        #expect(observation.summary.hasSuffix(", on try 3"))
        #expect(observation.evidence.contains { $0.hasPrefix("passed on try 3 of 10 after ") })
    }

    @Test func waitsForAServiceThatBecomesHealthyInTime() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/healthy-in/600")), "retries": .scalar("20"), "interval": .scalar("100ms"),
        ])
        #expect(observation.outcome == .pass)
        let tally = try #require(observation.evidence.first { $0.hasPrefix("passed on try ") })
        #expect(!tally.hasPrefix("passed on try 1 "))
    }

    @Test func failedTriesEndWithTheLastCause() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/unhealthy")), "retries": .scalar("3"), "interval": .scalar("50ms"),
        ])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "status")
        #expect(observation.summary.contains("expected 2xx: {\"detail\":\"Redis not reachable\"} (3 tries over "))
        #expect(observation.evidence.contains("tries: 1 status, 2 status, 3 status"))
        #expect(observation.evidence.contains { $0.hasPrefix("failed 3 tries over ") })
    }

    @Test func theStepTimeoutBoundsEveryTry() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let (observation, took) = try await timed {
            try await observeHTTP(
                [
                    "url": .scalar(server.url("/hang")), "retries": .scalar("100"), "interval": .scalar("100ms"),
                    "attempt_timeout": .scalar("400ms"),
                ], timeout: .seconds(2))
        }
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "timeout")
        let ending = try #require(observation.evidence.first { $0.hasPrefix("failed ") })
        #expect(ending.contains("the step's timeout of 2s leaves no time for try"))
        let tries = try #require(observation.evidence.first { $0.hasPrefix("tries: ") })
        #expect(tries.hasPrefix("tries: 1 timeout, 2 timeout, 3 timeout"))
        #expect(took < hangGuard)
    }

    @Test func failuresInTheStartPeriodAreNotCounted() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/unhealthy")), "retries": .scalar("2"), "interval": .scalar("100ms"),
            "start_period": .scalar("350ms"),
        ])
        #expect(observation.cause == "status")
        // How many tries fall in the start period depends on the machine's speed; the first always does.
        let ending = try #require(observation.evidence.first { $0.hasPrefix("failed ") })
        let parts = try #require(
            try Pattern(#"^failed (\d+) tries over \S+ \((\d+) in the 350ms start period, not counted\)$"#)
                .allMatches(in: ending).first)
        let (total, uncounted) = (Int(parts[1]) ?? 0, Int(parts[2]) ?? 0)
        #expect(uncounted >= 1)
        #expect(total == uncounted + 2)
        let tries = try #require(observation.evidence.first { $0.hasPrefix("tries: ") })
        #expect(tries.components(separatedBy: ",").count == total)
    }

    @Test func cancellationStopsAHangingRequest() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let flag = CancellationFlag()
        let canceller = Task {
            try await Task.sleep(for: .milliseconds(300))
            flag.cancel()
        }
        let (observation, took) = try await timed {
            try await observeHTTP(["url": .scalar(server.url("/hang"))], timeout: .seconds(10), cancellation: flag)
        }
        _ = try await canceller.value
        #expect(observation.outcome == .error)
        #expect(observation.cause == "cancelled")
        #expect(took < hangGuard)
    }

    @Test func cancellationStopsTheWaitBetweenTries() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let flag = CancellationFlag()
        let canceller = Task {
            try await Task.sleep(for: .milliseconds(300))
            flag.cancel()
        }
        let (observation, took) = try await timed {
            try await observeHTTP(
                ["url": .scalar(server.url("/unhealthy")), "retries": .scalar("5"), "interval": .scalar("5s")],
                timeout: .seconds(30), cancellation: flag)
        }
        _ = try await canceller.value
        #expect(observation.outcome == .error)
        #expect(observation.cause == "cancelled")
        #expect(observation.evidence == ["tries: 1 status"])
        #expect(took < hangGuard)
    }

    @Test func headersAreSentAndSecretValuesHidden() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/echo")), "method": .scalar("POST"),
            "headers": .map([
                "X-Probe": .scalar("diagnose-test"), "Authorization": .scalar("Bearer tok-9f8e7d"),
                "X-Api-Key": .scalar("key-1a2b3c"),
            ]),
        ])
        #expect(observation.outcome == .pass)
        let body = try #require(observation.evidence.first { $0.hasPrefix("body ") })
        #expect(body.contains("POST /echo HTTP/1.1"))
        #expect(body.contains("X-Probe: diagnose-test"))
        #expect(observation.evidence.contains("header X-Probe: diagnose-test"))
        #expect(observation.evidence.contains("header Authorization: ***"))
        #expect(observation.evidence.contains("header X-Api-Key: ***"))
        let encoded = String(decoding: try JSONEncoder().encode(observation), as: UTF8.self)
        #expect(!encoded.contains("tok-9f8e7d"))
        #expect(!encoded.contains("key-1a2b3c"))
    }

    @Test func aPasswordInTheURLAppearsNowhere() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        for path in ["/echo", "/unhealthy", "/hang"] {
            let observation = try await observeHTTP(
                ["url": .scalar("http://user:s3cret@127.0.0.1:\(server.port)\(path)")], timeout: .seconds(1))
            let encoded = String(decoding: try JSONEncoder().encode(observation), as: UTF8.self)
            #expect(!encoded.contains("s3cret"), "\(path)")
            // curl sends the credentials as Basic authentication, which /echo shows.
            #expect(!encoded.contains(Data("user:s3cret".utf8).base64EncodedString()), "\(path)")
            #expect(encoded.contains("user:***@127.0.0.1"), "\(path)")
        }
    }

    @Test func redirectsAreFollowedOnlyWhenAsked() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let stays = try await observeHTTP(["url": .scalar(server.url("/redirect"))])
        #expect(stays.cause == "status")
        #expect(stays.summary.contains("answered 302 in "))
        #expect(stays.summary.hasSuffix(", expected 2xx"))
        #expect(stays.evidence.contains { $0.hasPrefix("redirects to \(server.url("/ok")) (not followed") })

        let follows = try await observeHTTP([
            "url": .scalar(server.url("/redirect")), "follow_redirects": .scalar("true"),
        ])
        #expect(follows.outcome == .pass)
        #expect(follows.evidence.contains("followed 1 redirect(s) to \(server.url("/ok"))"))

        let loop = try await observeHTTP([
            "url": .scalar(server.url("/redirect-loop")), "follow_redirects": .scalar("true"),
        ])
        #expect(loop.cause == "too-many-redirects")
    }

    @Test func headRequestsExpectNoBody() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP(["url": .scalar(server.url("/ok")), "method": .scalar("HEAD")])
        #expect(observation.outcome == .pass)
        #expect(!observation.evidence.contains { $0.hasPrefix("body") })
    }

    @Test(arguments: [
        ["url": ArgumentValue.scalar("ftp://127.0.0.1/")],
        ["url": .scalar("127.0.0.1:8080/health")],
        ["url": .scalar("http://")],
        ["url": .scalar("http://127.0.0.1/"), "method": .scalar("FETCH")],
        ["url": .scalar("http://127.0.0.1/"), "expect_status": .scalar("ok")],
        ["url": .scalar("http://127.0.0.1/"), "headers": .map(["X-Bad": .scalar("a\r\nInjected: yes")])],
        ["url": .scalar("http://127.0.0.1/"), "headers": .map(["Bad Name": .scalar("x")])],
        ["url": .scalar("http://127.0.0.1/"), "retries": .scalar("0")],
        ["url": .scalar("http://127.0.0.1/"), "attempt_timeout": .scalar("0s")],
    ])
    func unusableArgumentsAreRejected(_ arguments: [String: ArgumentValue]) {
        #expect(throws: ProbeArgumentError.self) { try ProbeKind.http.make(ProbeArguments(arguments)) }
    }

    @Test func aBadURLErrorHidesItsPassword() {
        #expect {
            try ProbeKind.http.make(ProbeArguments(["url": .scalar("ftp://user:s3cret@127.0.0.1/")]))
        } throws: { error in
            "\(error)".contains("user:***@") && !"\(error)".contains("s3cret")
        }
    }

    @Test func theStandardRegistryHasHTTP() throws {
        let kind = try #require(ProbeRegistry.standard["http"])
        #expect(kind.required == ["url"])
        #expect(kind.optional.contains("retries") && kind.optional.contains("attempt_timeout"))
    }
}
