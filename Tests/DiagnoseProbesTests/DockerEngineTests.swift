import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

/// The engine client against the real engine's socket and the test stack's containers, and against sockets that
/// fail in the ways a real engine's can.
@Suite(.serialized) struct DockerEngineTests {
    static let socketPresent = FileManager.default.fileExists(atPath: EngineEndpoint.defaultSocket)

    func engine() throws -> DockerEngine {
        var engine = DockerEngine(
            endpoint: EngineEndpoint(transport: .unix(path: EngineEndpoint.defaultSocket), origin: "test"))
        let version = try engine.negotiate(timeout: .seconds(10), cancellation: []).get()
        #expect(version == engine.apiVersion)
        return engine
    }

    @Test func endpointsAreReadFromTheEnvironmentAsTheDockerCLIReadsThem() throws {
        let unix = try EngineEndpoint.resolve(environment: ["DOCKER_HOST": "unix:///run/x.sock"]).get()
        #expect(unix.transport == .unix(path: "/run/x.sock") && unix.isLocal)
        let tcp = try EngineEndpoint.resolve(environment: ["DOCKER_HOST": "tcp://127.0.0.1:2999"]).get()
        #expect(tcp.transport == .tcp(host: "127.0.0.1", port: 2999, tls: nil) && !tcp.isLocal)
        #expect(tcp.baseURL == "http://127.0.0.1:2999")
        let certificates = try temporaryDirectory("engine-certificates")
        defer { try? FileManager.default.removeItem(atPath: certificates) }
        for name in ["cert.pem", "key.pem"] {
            try "-----BEGIN-----".write(toFile: certificates + "/" + name, atomically: true, encoding: .utf8)
        }
        let tls = try EngineEndpoint.resolve(
            environment: [
                "DOCKER_HOST": "tcp://example.test", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certificates,
            ]
        ).get()
        #expect(
            tls.transport
                == .tcp(
                    host: "example.test", port: 2376,
                    tls: CurlTLSFiles(
                        certificateAuthority: certificates + "/ca.pem", certificate: certificates + "/cert.pem",
                        key: certificates + "/key.pem")))
        #expect(tls.baseURL == "https://example.test:2376")
        // As the docker CLI does, a client certificate that is not there is not presented; the CA is always named.
        let noClient = try EngineEndpoint.resolve(
            environment: ["DOCKER_HOST": "tcp://example.test", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs"]
        ).get()
        #expect(
            noClient.transport
                == .tcp(
                    host: "example.test", port: 2376,
                    tls: CurlTLSFiles(certificateAuthority: "/certs/ca.pem", certificate: nil, key: nil)))
        let home = try EngineEndpoint.resolve(environment: ["HOME": "/nonexistent"]).get()
        #expect(home.transport == .unix(path: "/var/run/docker.sock"))
        guard
            case .failure(.engineUnreachable(let message)) = EngineEndpoint.resolve(environment: [
                "DOCKER_HOST": "ftp://x"
            ])
        else { Issue.record("ftp:// was accepted"); return }
        #expect(message.contains("is not unix:///path"))
    }

    @Test func theCurrentContextsEndpointIsFoundInItsMetaFile() throws {
        let config = try temporaryDirectory("engine-context")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let meta = config + "/contexts/meta/0123abcd"
        try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
        try #"{"Name":"far","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.9.8.7:2375","SkipTLSVerify":false}}}"#
            .write(toFile: meta + "/meta.json", atomically: true, encoding: .utf8)
        try #"{"currentContext":"far"}"#.write(toFile: config + "/config.json", atomically: true, encoding: .utf8)
        let endpoint = try EngineEndpoint.resolve(environment: ["DOCKER_CONFIG": config]).get()
        #expect(endpoint.transport == .tcp(host: "10.9.8.7", port: 2375, tls: nil))
        #expect(endpoint.origin == "context 'far'")
        guard
            case .failure(.engineUnreachable(let message)) = EngineEndpoint.resolve(
                environment: ["DOCKER_CONFIG": config, "DOCKER_CONTEXT": "gone"])
        else { Issue.record("an unknown context was accepted"); return }
        #expect(message.contains("docker context 'gone' is not in"))
    }

    @Test(.enabled(if: socketPresent)) func versionIsNegotiatedWithTheRealPing() throws {
        let engine = try engine()
        // The engine here is 20.10 (API 1.41); a newer one is capped at 1.41.
        #expect(engine.apiVersion == DockerEngine.maximumVersion)
        #expect(DockerEngine.compare("1.9", "1.25") < 0 && DockerEngine.compare("1.43", "1.41") > 0)
    }

    @Test(.enabled(if: socketPresent)) func stateMatchesTheCLIs() async throws {
        let adapter = try await DockerTestStack.shared.adapter()
        let viaCLI = try await adapter.state(of: DockerTestStack.projectName).get()
        let viaAPI = try engine().projectState(
            project: DockerTestStack.projectName, timeout: .seconds(20), cancellation: []
        )
        .get()
        #expect(!viaAPI.containers.isEmpty)
        #expect(viaAPI.containers.map(\.id).sorted() == viaCLI.containers.map(\.id).sorted())
        #expect(viaAPI.containers(of: "exited").first?.state.status == "exited")
        #expect(viaAPI.containers(of: "plain").first?.isRunning == true)
    }

    @Test(.enabled(if: socketPresent)) func logsAreDemultiplexedWithTailAndSince() async throws {
        _ = try await DockerTestStack.shared.directory()
        let engine = try engine()
        let state = try engine.projectState(
            project: DockerTestStack.projectName, timeout: .seconds(20), cancellation: []
        )
        .get()
        let crashing = try #require(state.containers(of: "crashing").first)
        let log = try engine.logs(
            crashing.id, tty: false, since: nil, tail: nil, limit: 1 << 20, timeout: .seconds(20), cancellation: []
        ).get()
        let out = String(decoding: log.standardOutput, as: UTF8.self)
        let err = String(decoding: log.standardError, as: UTF8.self)
        #expect(out.contains("celery starting") && !out.contains("after the traceback"))
        #expect(err.contains("after the traceback") && !err.contains("celery starting"))
        let last = try engine.logs(
            crashing.id, tty: false, since: nil, tail: 1, limit: 1 << 20, timeout: .seconds(20), cancellation: []
        ).get()
        let lastText = String(decoding: last.combined, as: UTF8.self)
        #expect(lastText.split(separator: "\n").count == 1 && lastText.contains("after the traceback"))
        let future = try engine.logs(
            crashing.id, tty: false, since: "4000000000", tail: nil, limit: 1 << 20, timeout: .seconds(20),
            cancellation: []
        ).get()
        #expect(future.combined.isEmpty)
    }

    @Test func framesLongerThanOneReadAndCutFramesAreSplit() {
        let long = [UInt8](repeating: 65, count: 70_000)
        func frame(_ kind: UInt8, _ payload: [UInt8]) -> [UInt8] {
            let n = payload.count
            return [kind, 0, 0, 0, UInt8(n >> 24 & 255), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]
                + payload
        }
        let bytes = frame(1, long) + frame(2, Array("oops\n".utf8)) + frame(1, Array("end".utf8)).prefix(9)
        let stream = EngineStream(bytes, raw: false)
        #expect(stream.standardOutput.count == 70_001 && stream.standardError == Array("oops\n".utf8))
        #expect(stream.truncated)
        #expect(EngineStream(bytes, raw: true).standardOutput == bytes)
    }

    @Test(.enabled(if: socketPresent)) func execReportsExitCodeAndBothStreams() async throws {
        _ = try await DockerTestStack.shared.directory()
        let engine = try engine()
        let state = try engine.projectState(
            project: DockerTestStack.projectName, timeout: .seconds(20), cancellation: []
        )
        .get()
        let plain = try #require(state.containers(of: "plain").first)
        let result = try engine.exec(
            plain.id, command: ["sh", "-c", "echo to-out; echo to-err >&2; exit 7"], limit: 1 << 20,
            timeout: .seconds(20), cancellation: []
        ).get()
        #expect(result.exitCode == 7)
        #expect(String(decoding: result.output.standardOutput, as: UTF8.self) == "to-out\n")
        #expect(String(decoding: result.output.standardError, as: UTF8.self) == "to-err\n")
    }

    @Test(.enabled(if: socketPresent)) func anUnknownContainerIsTheEnginesOwn404Message() throws {
        let engine = try engine()
        guard
            case .failure(.dockerFailed(let command, let message)) = engine.inspect(
                "dgtest-no-such-container-\(getpid())", timeout: .seconds(10), cancellation: [])
        else { Issue.record("an unknown container was found"); return }
        #expect(command == "GET /containers/{id}/json" || command.hasPrefix("GET /containers/"))
        #expect(message.hasPrefix("HTTP 404") && message.contains("No such container"))
    }

    @Test func anAbsentSocketSaysWhatToDo() throws {
        let folder = try temporaryDirectory("engine-socket")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var engine = DockerEngine(
            endpoint: EngineEndpoint(transport: .unix(path: folder + "/docker.sock"), origin: "test"))
        guard case .failure(.engineUnreachable(let message)) = engine.negotiate(timeout: .seconds(5), cancellation: [])
        else { Issue.record("an absent socket answered"); return }
        #expect(message.contains("does not exist") && message.contains("DOCKER_HOST"))
    }

    @Test func aSocketThatNeverAnswersEndsAtTheTimeout() throws {
        let folder = try temporaryDirectory("engine-socket")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/silent.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0 && listen(listener, 4) == 0)
        // The kernel accepts connections into the backlog; nothing ever reads or answers them.
        var engine = DockerEngine(endpoint: EngineEndpoint(transport: .unix(path: path), origin: "test"))
        guard case .failure(.engineUnreachable(let message)) = engine.negotiate(timeout: .seconds(1), cancellation: [])
        else { Issue.record("a silent socket answered"); return }
        #expect(message.contains("no answer within"))
    }
}
