import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

@Suite(.serialized) struct LogsProbeTests {
    func probe(_ arguments: [String: ArgumentValue]) throws -> LogsProbe {
        try LogsProbe(ProbeArguments(arguments))
    }

    func localContext(_ directory: String) -> ProbeContext {
        ProbeContext(
            timeout: .seconds(10), environment: ProcessInfo.processInfo.environment, workingDirectory: directory)
    }

    @Test func patternAbsentFromFilePasses() async throws {
        let directory = try temporaryDirectory("logs")
        try "started\nready\n".write(toFile: directory + "/app.log", atomically: true, encoding: .utf8)
        let observation = try await probe(["file": .scalar("app.log"), "pattern": .scalar("ERROR")]).run(
            localContext(directory))
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.contains { $0.hasPrefix("0 matching lines") })
    }

    @Test func patternFoundInFileFailsWithContextAroundTheLastMatch() async throws {
        let directory = try temporaryDirectory("logs")
        let lines =
            (1...10).map { "line \($0)" } + ["ERROR first"] + [
                "a", "b", "c", "ERROR password=hunter22 second", "d", "e", "f",
            ]
        try lines.joined(separator: "\n").write(toFile: directory + "/app.log", atomically: true, encoding: .utf8)
        let observation = try await probe([
            "file": .scalar(directory + "/app.log"), "pattern": .scalar("ERROR \\w+"), "context": .scalar("2"),
        ]).run(localContext(directory))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "found")
        #expect(observation.evidence.contains { $0.hasPrefix("2 matching lines") })
        #expect(observation.evidence.last == "b\nc\nERROR password=*** second\nd\ne")
    }

    @Test func patternExpectedPresentButMissingIsNotFound() async throws {
        let directory = try temporaryDirectory("logs")
        try "a\nb\nready to accept connections\n".write(toFile: directory + "/r.log", atomically: true, encoding: .utf8)
        let context = localContext(directory)
        let found = try await probe([
            "file": .scalar("r.log"), "pattern": .scalar("ready to accept"), "expect": .scalar("present"),
        ]).run(context)
        #expect(found.outcome == .pass)
        let tailed = try await probe([
            "file": .scalar("r.log"), "pattern": .scalar("^a$"), "expect": .scalar("present"), "tail": .scalar("2"),
        ]).run(context)
        #expect(tailed.cause == "not-found")
    }

    @Test func missingFileIsUnreadable() async throws {
        let observation = try await probe(["file": .scalar("/nonexistent/app.log"), "pattern": .scalar("x")])
            .run(localContext("/"))
        #expect(observation.outcome == .error)
        #expect(observation.cause == "unreadable")
    }

    @Test func matchEndingATracebackShowsTheWholeTraceback() async throws {
        let directory = try temporaryDirectory("logs")
        let text = "worker booting\n" + DockerTestStack.traceback + "worker exited\n"
        try text.write(toFile: directory + "/worker.log", atomically: true, encoding: .utf8)
        let observation = try await probe([
            "file": .scalar("worker.log"), "pattern": .scalar("ModuleNotFoundError: No module named"),
        ]).run(localContext(directory))
        #expect(observation.cause == "found")
        let excerpt = try #require(observation.evidence.last)
        #expect(excerpt.hasPrefix("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/celery"))
        #expect(excerpt.hasSuffix("ModuleNotFoundError: No module named 'app.tasks'"))
        #expect(observation.summary.contains("Python traceback"))
    }

    @Test func chainedTracebackIsShownFromItsFirstHeader() async throws {
        let directory = try temporaryDirectory("logs")
        let text = """
            noise
            Traceback (most recent call last):
              File "a.py", line 1, in <module>
            KeyError: 'x'

            During handling of the above exception, another exception occurred:

            Traceback (most recent call last):
              File "a.py", line 3, in <module>
            RuntimeError: boom
            """
        try text.write(toFile: directory + "/chain.log", atomically: true, encoding: .utf8)
        let observation = try await probe(["file": .scalar("chain.log"), "pattern": .scalar("RuntimeError")])
            .run(localContext(directory))
        let excerpt = try #require(observation.evidence.last)
        #expect(excerpt.hasPrefix("Traceback (most recent call last):\n  File \"a.py\", line 1"))
        #expect(excerpt.hasSuffix("RuntimeError: boom"))
    }

    @Test func longTracebackIsBoundedKeepingItsEnd() async throws {
        let directory = try temporaryDirectory("logs")
        let frames = (1...200).map { "  File \"f\($0).py\", line \($0), in g\n    g()" }.joined(separator: "\n")
        let text =
            "Traceback (most recent call last):\n" + frames + "\nRecursionError: maximum recursion depth exceeded\n"
        try text.write(toFile: directory + "/deep.log", atomically: true, encoding: .utf8)
        let observation = try await probe(["file": .scalar("deep.log"), "pattern": .scalar("RecursionError")])
            .run(localContext(directory))
        let excerpt = try #require(observation.evidence.last)
        let lines = excerpt.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == LogsProbe.tracebackLines + 1)
        #expect(lines.first == "(342 lines above not shown)")
        #expect(lines.last == "RecursionError: maximum recursion depth exceeded")
    }

    @Test func largeFileIsReadFromItsEnd() async throws {
        let directory = try temporaryDirectory("logs")
        let path = directory + "/big.log"
        // 200 MB of ordinary lines with one error near the start and one in the last lines.
        let block = String(
            repeating: "2026-11-28 12:00:00 INFO request handled in 12ms path=/api/items status=200\n", count: 13_200)
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data("ERROR early failure\n".utf8))
        let data = Data(block.utf8)
        for _ in 0..<200 { handle.write(data) }
        handle.write(Data("ERROR late failure: disk full\nINFO after\n".utf8))
        try handle.close()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 200_000_000)

        let tail = try LogTail.read(path: path, lines: 1000)
        #expect(tail.bytesRead <= 1 << 20)
        #expect(tail.bytes.split(separator: 10).count == 1000)
        #expect(String(decoding: tail.bytes.suffix(11), as: UTF8.self) == "INFO after\n")

        let observation = try await probe(["file": .scalar(path), "pattern": .scalar("ERROR .*failure")])
            .run(localContext(directory))
        #expect(observation.cause == "found")
        #expect(observation.evidence.contains { $0.hasPrefix("1 matching line ") })
        #expect(observation.summary.contains("disk full"))
    }

    @Test func commandOutputIsSearched() async throws {
        let observation = try await probe([
            "command": .list([
                .scalar("/bin/sh"), .scalar("-c"), .scalar("echo ok; echo 'fatal: broken' >&2; echo done"),
            ]),
            "pattern": .scalar("fatal"), "context": .scalar("1"),
        ]).run(localContext("/"))
        #expect(observation.cause == "found")
        #expect(observation.evidence.last == "ok\nfatal: broken\ndone")
    }

    @Test func serviceLogEndingInTracebackIsFoundWithStreamsInOrder() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe([
            "service": .scalar("crashing"), "pattern": .scalar("ModuleNotFoundError"),
        ]).run(context)
        #expect(observation.cause == "found")
        #expect(
            observation.evidence.first?.hasPrefix(
                "$ docker logs --tail 2000 \(DockerTestStack.projectName)_crashing_1 --since ") == true)
        let excerpt = try #require(observation.evidence.last)
        #expect(excerpt.hasPrefix("Traceback (most recent call last):"))
        #expect(excerpt.hasSuffix("No module named 'app.tasks'"))

        let ordered = try await probe([
            "service": .scalar("crashing"), "pattern": .scalar("celery starting"), "context": .scalar("1"),
            "expect": .scalar("present"),
        ]).run(context)
        #expect(ordered.outcome == .pass)
        #expect(ordered.evidence.last == "celery starting\nUnable to load celery application.")
    }

    @Test func anErrorFromAnEarlierRunOfTheContainerIsNotFoundAgain() async throws {
        let context = try await DockerTestStack.shared.context()
        let search: [String: ArgumentValue] = ["service": .scalar("recovered"), "pattern": .scalar("ImportError")]
        let adapter = try await DockerTestStack.shared.adapter()
        let container = try await adapter.container(of: "recovered", in: DockerTestStack.projectName).get()
        // Restart it: the second run logs no error, though the container's log still holds the first run's.
        _ = await DockerTestStack.run(["docker", "restart", "-t", "0", container.id])
        try await Task.sleep(for: .seconds(1.5))
        let fresh = ComposeAdapter(environment: context.environment, workingDirectory: context.workingDirectory)
        var restarted = context
        restarted.compose = fresh
        let observation = try await probe(search).run(restarted)
        #expect(observation.outcome == .pass, "\(observation)")
        let all = await DockerTestStack.run(["docker", "logs", container.id])
        #expect((all.stdout + all.stderr).contains("ImportError: cannot import name 'settings'"))
    }

    @Test func patternsSearchedInOneServiceLogShareOneDockerLogs() async throws {
        let context = try await DockerTestStack.shared.context()
        var causes: [String?] = []
        for pattern in ["ModuleNotFoundError", "address already in use", "KeyError"] {
            let search = try probe(["service": .scalar("crashing"), "pattern": .scalar(pattern)])
            causes.append(await search.run(context).cause)
        }
        #expect(causes == ["found", nil, nil])
        // No docker process, and one log request for the three searches (after the state's requests).
        #expect(context.compose.processesStarted == 0)
        let containers = try await context.compose.state(of: DockerTestStack.projectName).get().containers.count
        #expect(context.compose.engineRequests == 2 + containers + 1)
    }

    @Test func logsOfServiceNeverCreatedAreAnError() async throws {
        let context = try await DockerTestStack.shared.context()
        let observation = try await probe(["service": .scalar("never"), "pattern": .scalar("x")]).run(context)
        #expect(observation.outcome == .error)
        #expect(observation.cause == "not-created")
    }

    @Test(arguments: [
        ("ModuleNotFoundError", "ModuleNotFoundError", true),
        ("ERROR .*timeout", "timeout", false),
        ("ab?cd", "cd", false),
        ("Cannot connect to redis://\\S+", "Cannot connect to redis://", false),
        ("x{2}yz+w", "yz", false),
    ])
    func requiredLiteralIsSafe(pattern: String, literal: String, whole: Bool) {
        let found = LineSearch.requiredLiteral(in: pattern)
        #expect(found?.text == literal)
        #expect(found?.whole == whole)
    }

    @Test(arguments: ["a|b", "ERROR|[0-9]+", "x(?i)error", "(?i)érreur", "[0-9]+", "\\d\\d"])
    func patternWithoutSafeLiteralUsesTheExpression(pattern: String) {
        #expect(LineSearch.prefilter(for: pattern) == nil)
    }

    @Test func alternativesAndIgnoredCaseKeepAPrefilter() throws {
        let alternatives = try #require(LineSearch.prefilter(for: "ERROR|Traceback \\(most|(a|b)fatal"))
        #expect(alternatives.literals == ["ERROR", "Traceback (most", "fatal"])
        #expect(!alternatives.whole)
        let folded = try #require(LineSearch.prefilter(for: "(?i)Connection Refused"))
        #expect(folded.literals == ["connection refused"])
        #expect(folded.foldsCase && folded.whole)
    }

    @Test func literalAndExpressionSearchesAgree() throws {
        let text = Array("alpha 1\nERROR x timeout\nbeta\nERROR timeout y\nERROR nothing\n".utf8)
        let cases: [(String, [String])] = [
            ("ERROR .*timeout", ["ERROR x timeout", "ERROR timeout y"]),
            ("(ERROR).*timeout", ["ERROR x timeout", "ERROR timeout y"]),
            ("^ERROR", ["ERROR x timeout", "ERROR timeout y", "ERROR nothing"]),
            ("nothing|alpha", ["alpha 1", "ERROR nothing"]),
            ("(?i)error x|BETA", ["ERROR x timeout", "beta"]),
        ]
        for (source, expected) in cases {
            let lines = LineSearch(try Pattern(source)).matchingLines(in: text)
            let shown = lines.map { String(decoding: text[$0], as: UTF8.self) }
            #expect(shown == expected, "pattern \(source)")
        }
    }
}
