import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// The engine reached over tcp+TLS: DOCKER_HOST=tcp://127.0.0.1:PORT with DOCKER_TLS_VERIFY=1, where PORT is
/// `Fixtures/tcp_relay.py --tls` (loopback only, stopped by pid): it terminates TLS with a certificate of a throwaway
/// CA made by openssl and requires a client certificate of that CA, as `dockerd --tlsverify` does, then relays to the
/// local engine's socket. What is seen over TLS is what the socket shows; each certificate the engine would refuse,
/// and TLS to a port without it, is an `engine-unreachable` error saying which file to check.
@Suite(.serialized) struct RemoteEngineTLSTests {
    static let socketPresent = FileManager.default.fileExists(atPath: EngineEndpoint.defaultSocket)

    /// A relay to the engine's socket, its DOCKER_HOST, and the file it logs a line to per accepted connection.
    struct Relay {
        var process: TestProcess
        var host: String
        var acceptLog: String

        /// The TCP connections accepted so far.
        var accepted: Int {
            ((try? String(contentsOfFile: acceptLog, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
    }

    /// Starts the relay, with TLS when `certificates` are given; its accept log is in `folder`.
    func relay(
        _ certificates: TestCertificates?, logIn folder: String, requiringClientCertificate: Bool = true,
        certificateOfAnotherHost: Bool = false
    ) async throws -> Relay {
        let script = try #require(
            Bundle.module.url(forResource: "tcp_relay", withExtension: "py", subdirectory: "Fixtures"))
        let port = try Loopback.freePort()
        let log = folder + "/accepts-\(port).log"
        var arguments = [script.path, String(port), EngineEndpoint.defaultSocket, "--accepts", log]
        if let certificates {
            let (certificate, key) =
                certificateOfAnotherHost
                ? (certificates.elsewhereCertificate, certificates.elsewhereKey)
                : (certificates.serverCertificate, certificates.serverKey)
            arguments += ["--tls", certificate, key, certificates.authority]
            if !requiringClientCertificate { arguments.append("--no-client-certificate") }
        }
        let process = try TestProcess("/usr/bin/python3", arguments)
        try await Loopback.waitUntilListening(port: port)
        let relay = Relay(process: process, host: "tcp://127.0.0.1:\(port)", acceptLog: log)
        // The kernel completes a connection before the relay accepts and logs it: wait for the log to show the
        // wait's own connection, so that it is never counted as a test's.
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: hangGuard)
        while relay.accepted == 0 {
            guard clock.now < end else { throw TestSetupError("the relay logged no connection within \(hangGuard)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return relay
    }

    /// The environment of a client of `host` with TLS and DOCKER_CERT_PATH `certificates`, or of the local socket.
    func environment(_ host: String?, certificates: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = host
        environment["DOCKER_TLS_VERIFY"] = certificates == nil ? nil : "1"
        environment["DOCKER_CERT_PATH"] = certificates
        environment["DIAGNOSE_COMPOSE"] = "v2"
        return environment
    }

    func adapter(_ environment: [String: String], _ directory: String = "/") -> ComposeAdapter {
        ComposeAdapter(environment: environment, workingDirectory: directory, stateTimeout: .seconds(10))
    }

    /// The error a state read through `relay` with DOCKER_CERT_PATH `certificates` ends with.
    func stateError(_ relay: Relay, certificates: String) async -> ComposeError? {
        let remote = adapter(environment(relay.host, certificates: certificates))
        guard case .failure(let error) = await remote.state(of: TLSTestProject.name) else { return nil }
        #expect(remote.processesStarted == 0)
        return error
    }

    @Test(.enabled(if: socketPresent)) func stateLogsAndExecOverTLSAreTheSocketsAndInSaysWhyItCannot() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let directory = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let tlsEnvironment = environment(relay.host, certificates: certificates.client)
        let local = adapter(environment(nil), directory)
        let remote = adapter(tlsEnvironment, directory)
        let endpoint = try remote.engineEndpoint.get()
        #expect(endpoint.baseURL.hasPrefix("https://127.0.0.1:") && !endpoint.isLocal)

        let before = relay.accepted
        let overSocket = try await local.state(of: TLSTestProject.name).get()
        let overTLS = try await remote.state(of: TLSTestProject.name).get()
        #expect(overTLS.containers.compactMap(\.service).sorted() == ["finished", "running"])
        #expect(overTLS == overSocket)
        #expect(remote.engineRequests > 0 && remote.processesStarted == 0)
        #expect(relay.accepted > before)

        let socketLog = try await local.logs(
            of: "finished", in: TLSTestProject.name, tail: 50, timeout: .seconds(20)
        ).get()
        let tlsLog = try await remote.logs(of: "finished", in: TLSTestProject.name, tail: 50, timeout: .seconds(20))
            .get()
        #expect(tlsLog.result.stdout.contains(TLSTestProject.logLine))
        #expect(tlsLog.result.stdout == socketLog.result.stdout)

        let inside = try await remote.exec(
            ["sh", "-c", "echo over-tls; echo to-stderr >&2; exit 4"], in: "running", project: TLSTestProject.name,
            timeout: .seconds(20)
        ).get()
        #expect(inside.result.exitStatus == 4)
        #expect(inside.result.stdout == "over-tls\n" && inside.result.stderr == "to-stderr\n")
        #expect(remote.processesStarted == 0)

        let vantage = await ContainerVantage.locate(
            "running", selector: ComposeProject.Selector(name: TLSTestProject.name), compose: remote,
            environment: tlsEnvironment, cancellation: CancellationFlag())
        guard case .failure(let error) = vantage else {
            Issue.record("in: on a remote engine must not stand in the container")
            return
        }
        #expect(error.cause == "remote-engine")
        #expect(
            error.description.contains(relay.host) && error.description.contains("run diagnose on the engine's host"))
    }

    static let runbook = """
        id: tls-engine
        title: The project through the engine over TLS
        start: running
        steps:
          running:
            title: running runs
            probe: compose-service
            with: {service: running}
            on: {pass: logs, fail: logs, error: logs}
          logs:
            title: finished logged its line
            probe: logs
            with: {service: finished, pattern: "\(TLSTestProject.logLine)", expect: present}
            on: {pass: exec, fail: exec, error: exec}
          exec:
            title: a command inside running
            probe: command
            with: {in: running, argv: [sh, -c, "exit 0"]}
            on: {pass: reach, fail: reach, error: reach}
          reach:
            title: a port from inside running
            probe: tcp
            with: {in: running, host: 127.0.0.1, port: 9}
            on: {pass: read, fail: read, error: read}
        diagnoses:
          read: {severity: ok, title: Read}
        """

    /// A run of `runbook` on a remote engine: exit 0, every step but `reach` passed, and `reach` (a namespace
    /// entered) said `remote-engine`.
    static func expectRemoteRun(_ run: ProcessResult) throws {
        #expect(run.exitStatus == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let path = try #require((report?["runbooks"] as? [[String: Any]])?.first?["path"] as? [[String: Any]])
        let outcomes = Dictionary(
            uniqueKeysWithValues: path.map { ($0["step"] as? String ?? "", $0["outcome"] as? String ?? "") })
        #expect(
            outcomes == ["running": "pass", "logs": "pass", "exec": "pass", "reach": "error"],
            "\(path.map { "\($0["step"] ?? ""): \($0["summary"] ?? "")" })")
        #expect(path.last?["cause"] as? String == "remote-engine")
    }

    @Test(.enabled(if: socketPresent)) func aRunOverTLSReadsTheEngineAndStartsNoDockerProcess() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let directory = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let folder = try temporaryDirectory("tls-run")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A docker on PATH that logs each start, so that a docker process started for state would be seen.
        let log = folder + "/argv.log"
        let realDocker = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/docker" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        try FileManager.default.createDirectory(atPath: folder + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"$*\" >> '\(log)'\nexec '\(realDocker)' \"$@\"\n"
            .write(toFile: folder + "/bin/docker", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/bin/docker")
        try Self.runbook.write(toFile: folder + "/tls.yml", atomically: true, encoding: .utf8)
        var environment = environment(relay.host, certificates: certificates.client)
        environment["PATH"] = folder + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")

        let before = relay.accepted
        let run = await ProcessRunner.run(
            [EngineClientRunTests.binary, "run", folder + "/tls.yml", "--format", "json"], environment: environment,
            workingDirectory: directory, timeout: hangGuard)
        try Self.expectRemoteRun(run)
        #expect(relay.accepted > before)
        #expect(
            !FileManager.default.fileExists(atPath: log),
            "docker was started: \(String(describing: try? String(contentsOfFile: log, encoding: .utf8)))")
    }

    @Test(.enabled(if: socketPresent)) func aStateReadOverTLSUsesOneConnection() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let directory = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let remote = adapter(environment(relay.host, certificates: certificates.client), directory)
        let before = relay.accepted
        let state = try await remote.state(of: TLSTestProject.name).get()
        let connections = relay.accepted - before
        // The version, the list, and each container inspected.
        #expect(remote.engineRequests == 2 + state.containers.count)
        #expect(connections == 1, "\(connections) TLS connections for \(remote.engineRequests) requests")
    }

    /// The engine client of `relay`, negotiated.
    func tlsEngine(_ relay: Relay, _ certificates: TestCertificates) throws -> DockerEngine {
        var engine = DockerEngine(
            endpoint: try EngineEndpoint.resolve(
                environment: environment(relay.host, certificates: certificates.client)
            )
            .get())
        _ = try engine.negotiate(timeout: .seconds(10), cancellation: []).get()
        return engine
    }

    @Test(.enabled(if: socketPresent)) func aRequestThatEndedEarlyLeavesNoConnectionForTheNext() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        _ = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let expected = try await adapter(environment(nil)).state(of: TLSTestProject.name).get().containers.map(\.id)
        let before = relay.accepted
        let engine = try tlsEngine(relay, certificates)
        let filters = #"{"label":["com.docker.compose.project=\#(TLSTestProject.name)"]}"#
        // Stopped at 16 bytes of a longer answer, on the connection the negotiation left open.
        let cut = try engine.send(
            "GET", "/containers/json", query: [("all", "1"), ("filters", filters)], timeout: .seconds(10),
            readLimit: 16, cancellation: []
        ).get()
        #expect(cut.stoppedAtLimit && cut.body.count == 16)
        let cancelled = CancellationFlag()
        cancelled.cancel()
        let stopped = engine.containerIDs(
            project: TLSTestProject.name, timeout: .seconds(10), cancellation: [cancelled])
        guard case .failure(.cancelled) = stopped else {
            Issue.record("a cancelled request answered \(stopped)")
            return
        }
        // Had the cut connection been kept, this answer would start with the rest of the one before.
        let ids = try engine.containerIDs(project: TLSTestProject.name, timeout: .seconds(10), cancellation: []).get()
        #expect(ids.sorted() == expected.sorted())
        #expect(relay.accepted - before >= 2)
    }

    /// The test project's state read `each` times on each of `threads` threads at once, through one client.
    static func projectStates(_ engine: DockerEngine, threads: Int, each: Int) async -> [ProjectState?] {
        await withTaskGroup(of: [ProjectState?].self) { group in
            for _ in 0..<threads {
                group.addTask {
                    await offload {
                        (0..<each).map { _ in
                            try? engine.projectState(
                                project: TLSTestProject.name, timeout: .seconds(20), cancellation: []
                            ).get()
                        }
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test(.enabled(if: socketPresent)) func requestsOnManyThreadsShareThePool() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        _ = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let expected = try await adapter(environment(nil)).state(of: TLSTestProject.name).get()
        let engine = try tlsEngine(relay, certificates)
        let before = relay.accepted
        let threads = 8
        let reads = await Self.projectStates(engine, threads: threads, each: 5)
        #expect(reads.count == threads * 5)
        #expect(reads.allSatisfy { $0 == expected })
        // At most one connection per thread at a time: never one per request.
        let connections = relay.accepted - before
        #expect(connections >= 1 && connections <= threads, "\(connections) connections")
    }

    /// The cause is `engine-unreachable`, the message says TLS with the relay failed and what `says`, and the
    /// failure came from TLS, not from a wait that ran out.
    func expectTLSFailure(
        _ error: ComposeError?, through relay: Relay, says parts: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(error?.cause == "engine-unreachable", sourceLocation: sourceLocation)
        let message = error?.description ?? ""
        for part in ["TLS with \(relay.host) with TLS (DOCKER_HOST) failed: "] + parts {
            #expect(message.contains(part), "\(message)", sourceLocation: sourceLocation)
        }
        #expect(!message.contains("had no answer within"), "\(message)", sourceLocation: sourceLocation)
    }

    /// The handshake fails before the relay connects to the engine, so no engine is needed.
    @Test func aCAThatDidNotSignTheEnginesCertificateIsATLSFailureNamingIt() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let folder = certificates.wrongAuthority
        expectTLSFailure(
            await stateError(relay, certificates: folder), through: relay,
            says: [
                "the engine's certificate was not signed by the CA in \(folder)/ca.pem (SSL certificate problem: ",
                "ca.pem in DOCKER_CERT_PATH (\(folder)) must be the CA that signed the engine's --tlscert",
            ])
    }

    @Test func anEngineCertificateMadeOutToAnotherHostIsATLSFailure() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let relay = try await relay(certificates, logIn: certificates.folder, certificateOfAnotherHost: true)
        defer { relay.process.stop() }
        expectTLSFailure(
            await stateError(relay, certificates: certificates.client), through: relay,
            says: [
                "the engine's certificate is not made out to the host DOCKER_HOST names (",
                "target host name '127.0.0.1'", "name the engine as its certificate does",
            ])
    }

    @Test func noClientCertificateIsAClearTLSFailure() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let folder = certificates.noClientCertificate
        expectTLSFailure(
            await stateError(relay, certificates: folder), through: relay,
            says: [
                "the engine ended the connection after the handshake (",
                "it wants a client certificate, and none was presented: DOCKER_CERT_PATH (\(folder)) has no cert.pem and key.pem",
            ])
    }

    @Test func aClientCertificateOfAnotherCAIsRefusedByTheEngine() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let relay = try await relay(certificates, logIn: certificates.folder)
        defer { relay.process.stop() }
        let folder = certificates.foreignClient
        expectTLSFailure(
            await stateError(relay, certificates: folder), through: relay,
            says: [
                "the engine ended the connection after the handshake (",
                "it accepts only a client certificate signed by the CA it trusts (dockerd --tlscacert), and \(folder)/cert.pem in DOCKER_CERT_PATH (\(folder)) may not be one",
            ])
    }

    /// As with the docker CLI, DOCKER_CERT_PATH without cert.pem and key.pem reaches an engine that asks no client
    /// certificate (`dockerd --tls` without `--tlsverify`).
    @Test(.enabled(if: socketPresent)) func anEngineThatAsksNoClientCertificateIsReadWithoutOne() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        let directory = try await TLSTestProject.shared.directory()
        let relay = try await relay(certificates, logIn: certificates.folder, requiringClientCertificate: false)
        defer { relay.process.stop() }
        let remote = adapter(environment(relay.host, certificates: certificates.noClientCertificate), directory)
        let overTLS = try await remote.state(of: TLSTestProject.name).get()
        let overSocket = try await adapter(environment(nil), directory).state(of: TLSTestProject.name).get()
        #expect(!overTLS.containers.isEmpty && overTLS == overSocket)
    }

    @Test(.enabled(if: socketPresent)) func tlsToAPortWithoutTLSIsAClearTLSFailure() async throws {
        guard let certificates = try await TestCertificates.make() else { return }
        defer { certificates.remove() }
        try await DockerTestStack.startEngineIfNeeded()
        let relay = try await relay(nil, logIn: certificates.folder)
        defer { relay.process.stop() }
        expectTLSFailure(
            await stateError(relay, certificates: certificates.client), through: relay,
            says: [
                "the engine does not speak TLS on that port (", "wrong version number",
                "it may listen without TLS (unset DOCKER_TLS_VERIFY), or TLS may be on another port (2376 by convention)",
            ])
    }
}

/// A throwaway PKI made with openssl: a CA, the engine's certificate it signed (IP:127.0.0.1, DNS:localhost) and a
/// client's, and a second CA with a client certificate of its own. DOCKER_CERT_PATH folders hold them as the docker
/// CLI names them (ca.pem, cert.pem, key.pem).
struct TestCertificates {
    /// The folder holding everything; removed by `remove()`.
    let folder: String

    /// The CA the engine trusts for clients (and that signed its certificate).
    var authority: String { folder + "/pki/ca.pem" }
    /// The engine's certificate and key.
    var serverCertificate: String { folder + "/pki/server-cert.pem" }
    var serverKey: String { folder + "/pki/server-key.pem" }
    /// A certificate of the same CA made out to another host only (DNS:elsewhere.invalid), and its key.
    var elsewhereCertificate: String { folder + "/pki/elsewhere-cert.pem" }
    var elsewhereKey: String { folder + "/pki/elsewhere-key.pem" }
    /// DOCKER_CERT_PATH of a client the engine accepts.
    var client: String { folder + "/client" }
    /// The good client's cert.pem and key.pem, with the other CA as ca.pem.
    var wrongAuthority: String { folder + "/wrong-ca" }
    /// Only ca.pem: no client certificate to present.
    var noClientCertificate: String { folder + "/no-client-certificate" }
    /// The right ca.pem, with a client certificate the other CA signed.
    var foreignClient: String { folder + "/foreign-client" }

    /// The certificates, or nil with an issue recorded when openssl is not installed.
    static func make() async throws -> TestCertificates? {
        let openssl = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { $0 + "/openssl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let openssl else {
            Issue.record("openssl is not installed: the TLS tests need it to make their certificates")
            return nil
        }
        let certificates = TestCertificates(folder: try temporaryDirectory("tls"))
        let pki = certificates.folder + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        func run(_ arguments: [String]) async throws {
            let result = await ProcessRunner.run([openssl] + arguments, workingDirectory: pki, timeout: hangGuard)
            guard result.exitStatus == 0 else {
                throw TestSetupError("openssl \(arguments.joined(separator: " ")): \(result.stderr)")
            }
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for authority in ["ca", "other-ca"] {
            try await run(
                ["req", "-x509"] + key + [
                    "-keyout", "\(authority)-key.pem", "-out", "\(authority).pem", "-days", "1", "-subj",
                    "/CN=dgtest \(authority)", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        let leaves = [
            ("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
            ("elsewhere", "ca", "subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth\n"),
            ("client", "ca", "extendedKeyUsage=clientAuth\n"), ("foreign", "other-ca", "extendedKeyUsage=clientAuth\n"),
        ]
        for (name, authority, extensions) in leaves {
            try extensions.write(toFile: "\(pki)/\(name).ext", atomically: true, encoding: .utf8)
            try await run(
                ["req"] + key + ["-keyout", "\(name)-key.pem", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try await run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(authority).pem", "-CAkey", "\(authority)-key.pem",
                "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "1", "-out", "\(name)-cert.pem",
                "-extfile", "\(name).ext",
            ])
        }
        let folders: [(String, [(String, String)])] = [
            (certificates.client, [("ca", "ca.pem"), ("client-cert", "cert.pem"), ("client-key", "key.pem")]),
            (
                certificates.wrongAuthority,
                [("other-ca", "ca.pem"), ("client-cert", "cert.pem"), ("client-key", "key.pem")]
            ),
            (certificates.noClientCertificate, [("ca", "ca.pem")]),
            (certificates.foreignClient, [("ca", "ca.pem"), ("foreign-cert", "cert.pem"), ("foreign-key", "key.pem")]),
        ]
        for (folder, files) in folders {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (source, name) in files {
                try FileManager.default.copyItem(atPath: "\(pki)/\(source).pem", toPath: "\(folder)/\(name)")
            }
        }
        return certificates
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// A compose project of two containers for the TLS tests, named after this test process so that no other run shares
/// it: `running` (a loop) and `finished` (logs a line and exits 0). Removed when the test process exits.
actor TLSTestProject {
    static let name = "dgtest-tls-\(getpid())"
    static let logLine = "a line logged before exiting"
    static let shared = TLSTestProject()
    /// The folder holding the project's folder.
    static let parent = NSTemporaryDirectory() + "dgtest-tls-project-\(getpid())"

    private var ready: Task<String, any Error>?

    /// The project's folder, once `running` runs and `finished` has exited.
    func directory() async throws -> String {
        if let ready { return try await ready.value }
        let task = Task { try await Self.bringUp() }
        ready = task
        return try await task.value
    }

    static let composeFile = """
        version: "2.4"
        services:
          running:
            image: \(DockerTestStack.image)
            command: \(DockerTestStack.loop)
          finished:
            image: \(DockerTestStack.image)
            command: ["sh", "-c", "echo 'starting'; echo '\(logLine)' >&2"]
        """

    private static func bringUp() async throws -> String {
        try await DockerTestStack.startEngineIfNeeded()
        try await DockerTestStack.buildImageIfNeeded()
        // The folder's name is the project's name, so probes find the project the way compose would.
        let directory = parent + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try composeFile.write(toFile: directory + "/docker-compose.yml", atomically: true, encoding: .utf8)
        atexit { TLSTestProject.tearDown() }
        let up = await ProcessRunner.run(
            ["docker-compose", "-p", name, "-f", directory + "/docker-compose.yml", "up", "-d"],
            workingDirectory: directory, timeout: .seconds(120))
        guard up.exitStatus == 0 else { throw StackError("docker-compose up failed: \(up.stderr)") }
        for _ in 0..<120 {
            let state = try await ComposeAdapter(environment: DockerTestStack.environment, workingDirectory: directory)
                .state(of: name).get()
            let running = state.containers(of: "running").first?.isRunning ?? false
            let finished = state.containers(of: "finished").first?.state.status == "exited"
            if running && finished { return directory }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw StackError("the TLS test project's containers did not reach running and exited within 30s")
    }

    /// Removes the project's containers, network and folder; runs at process exit.
    static func tearDown() {
        _ = ProcessRunner.runBlocking(
            [
                "/bin/sh", "-c",
                "ids=$(docker ps -aq --filter label=com.docker.compose.project=\(name)); "
                    + "[ -z \"$ids\" ] || docker rm -f -v $ids; docker network rm \(name)_default",
            ], environment: nil, workingDirectory: nil, timeout: .seconds(60), captureLimit: 4096, cancellation: [])
        try? FileManager.default.removeItem(atPath: parent)
    }
}
