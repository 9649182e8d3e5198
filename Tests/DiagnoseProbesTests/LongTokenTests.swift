import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

/// A line of one long token (1 MB of one letter, of uppercase hex, of base64, of digits) goes through redaction and
/// through every probe that reads text: each finishes with its result. A pattern that rescans a run from every
/// position of it (the URL rule's `[A-Za-z][A-Za-z0-9+.-]*://` did) takes minutes on such a line; the only time
/// bound here is `hangGuard`, given as the probes' timeout. The measured times are in docs/reliability.md.
@Suite(.serialized) struct LongTokenTests {
    enum Kind: String, CaseIterable, Sendable {
        case letter, hex, base64, digits

        var alphabet: String {
            switch self {
            case .letter: "a"
            case .hex: "0123456789ABCDEF"
            case .base64: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            case .digits: "0123456789"
            }
        }

        /// The same line as `http_server.py`'s `/long/KIND`.
        var line: String {
            let alphabet = Array(alphabet)
            return String((0..<1_000_000).map { alphabet[$0 % alphabet.count] })
        }
    }

    @Test(arguments: Kind.allCases)
    func redactionOfALongTokenFinishesAndStillFindsTheSecretsAfterIt(_ kind: Kind) {
        let line = kind.line
        // Booleans, so that a failure does not print a megabyte.
        #expect(Redactor.standard.redact(line) == line, "the run was changed")
        let planted = line + " redis://u:pw-after-run@h:6379/0 API_KEY=key-after-run Authorization: Bearer tok-after"
        let redacted = Redactor.standard.redact(planted)
        for secret in ["pw-after-run", "key-after-run", "tok-after"] {
            #expect(!redacted.contains(secret), "\(secret) survived")
        }
        #expect(redacted.hasPrefix(line), "the run was changed")
        // A scheme glued to the run: the rule looks at most a bounded distance before `://`.
        #expect(!Redactor.standard.redact(line + "x://u:pw-glued@h/").contains("pw-glued"), "pw-glued survived")
    }

    @Test(arguments: Kind.allCases)
    func logsAndCommandOutputOfALongTokenFinish(_ kind: Kind) async throws {
        let folder = try temporaryDirectory("long-\(kind.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let line = kind.line
        try "INFO start\nERROR \(line)\nINFO end\n".write(
            toFile: folder + "/app.log", atomically: true, encoding: .utf8)
        let context = ProbeContext(timeout: hangGuard, environment: [:], workingDirectory: folder)

        let logs = try await LogsProbe(ProbeArguments(["file": .scalar("app.log"), "pattern": .scalar("ERROR")]))
            .run(context)
        #expect(logs.outcome == .fail, "\(logs.summary)")
        #expect(logs.cause == "found")
        #expect(logs.summary.contains("ERROR " + line.prefix(50)), "the line is not shown")

        let command = try await CommandProbe(
            ProbeArguments(["argv": .list([.scalar("/bin/cat"), .scalar("app.log")])])
        ).run(context)
        #expect(command.outcome == .pass, "\(command.summary)")
        let stdout = command.evidence.first { $0.hasPrefix("stdout:") } ?? ""
        #expect(stdout.contains(line.prefix(1000)), "the output is not shown")
        #expect(stdout.contains("more bytes of stdout read and dropped"), "not read to its end")
    }

    @Test func httpBodiesOfALongTokenFinish() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        for kind in Kind.allCases {
            let observation = try await observeHTTP(
                ["url": .scalar(server.url("/long/\(kind.rawValue)")), "body_contains": .scalar("absent-word")],
                timeout: hangGuard)
            #expect(observation.outcome == .fail, "\(kind): \(observation.summary)")
            #expect(observation.cause == "body-mismatch", "\(kind)")
            #expect(observation.allEvidence.contains(kind.line.prefix(200)), "\(kind): the body is not shown")
        }
    }

    /// The body is redacted before it is cut to what is shown: cut first, half a password would no longer match.
    @Test func aSecretAcrossTheShownLimitOfABodyIsRedactedBeforeTheCut() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let observation = try await observeHTTP([
            "url": .scalar(server.url("/straddle")), "body_contains": .scalar("no"),
        ])
        #expect(observation.cause == "body-mismatch")
        #expect(!observation.allEvidence.contains("straddle-pw"), "\(observation.allEvidence.suffix(100))")
        #expect(observation.allEvidence.contains("redis://:***@"))
    }
}
