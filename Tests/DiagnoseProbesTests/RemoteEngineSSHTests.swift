import DiagnoseCompose
import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

#if canImport(Glibc)
    import Glibc
#endif

/// The engine reached over ssh: DOCKER_HOST=ssh://root@127.0.0.1:PORT, where PORT is a real OpenSSH server
/// (`/usr/sbin/sshd`, scripts/setup.sh installs it) started by the test on loopback with throwaway keys, and stopped
/// by pid. Each connection is `ssh ... docker system dial-stdio` as the docker CLI makes it; the `ssh` diagnose finds
/// on PATH is a wrapper naming the test's key and known-hosts file and logging its pid, so that the test sees every
/// ssh started and that none is left. What is seen over ssh is what the socket shows; a failing ssh says why.
@Suite(.serialized) struct RemoteEngineSSHTests {
    static let socketPresent = FileManager.default.fileExists(atPath: EngineEndpoint.defaultSocket)
    static let sshdPresent = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")

    /// An sshd on loopback and a client set up for it: keys, a known-hosts file, a wrapper `ssh` in `bin`.
    struct SSHServer {
        var process: TestProcess
        var folder: String
        var port: Int

        /// `ssh://root@127.0.0.1:PORT`.
        var host: String { "ssh://root@127.0.0.1:\(port)" }
        /// The pids the wrapper logged, one per ssh started.
        var sshStarted: [pid_t] {
            ((try? String(contentsOfFile: folder + "/ssh-pids.log", encoding: .utf8)) ?? "")
                .split(separator: "\n").compactMap { pid_t($0) }
        }

        /// The environment of a client of this server: the wrapper first on PATH.
        func environment(host: String? = nil) -> [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = host ?? self.host
            environment["DIAGNOSE_COMPOSE"] = "v2"
            environment["PATH"] = folder + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
            return environment
        }

        static func start() async throws -> SSHServer {
            let folder = try temporaryDirectory("ssh-engine")
            for key in ["host_key", "client_key", "stranger_key"] {
                let made = await ProcessRunner.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", folder + "/" + key], timeout: hangGuard)
                guard made.exitStatus == 0 else { throw TestSetupError("ssh-keygen failed: \(made.stderr)") }
            }
            try FileManager.default.copyItem(
                atPath: folder + "/client_key.pub", toPath: folder + "/authorized_keys")
            // sshd's privilege separation folder, which a machine without a running sshd may lack.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            let port = try Loopback.freePort()
            try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(folder)/host_key
            AuthorizedKeysFile \(folder)/authorized_keys
            PidFile none
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            """.write(toFile: folder + "/sshd_config", atomically: true, encoding: .utf8)
            // The host key made known, as `ssh` once by hand would; BatchMode would refuse an unknown one.
            let hostKey = try String(contentsOfFile: folder + "/host_key.pub", encoding: .utf8)
            try "[127.0.0.1]:\(port) \(hostKey)".write(
                toFile: folder + "/known_hosts", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: folder + "/bin", withIntermediateDirectories: true)
            try """
            #!/bin/sh
            echo $$ >> '\(folder)/ssh-pids.log'
            exec /usr/bin/ssh -F /dev/null -i "${TEST_SSH_KEY:-\(folder)/client_key}" -o IdentitiesOnly=yes \
              -o UserKnownHostsFile='\(folder)/known_hosts' -o LogLevel=ERROR "$@"

            """.write(toFile: folder + "/bin/ssh", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/bin/ssh")
            let process = try TestProcess("/usr/sbin/sshd", ["-D", "-e", "-f", folder + "/sshd_config"])
            try await Loopback.waitUntilListening(port: port)
            return SSHServer(process: process, folder: folder, port: port)
        }

        func stop() {
            process.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func adapter(_ environment: [String: String], _ directory: String = "/") -> ComposeAdapter {
        ComposeAdapter(environment: environment, workingDirectory: directory, stateTimeout: .seconds(20))
    }

    /// Those of `pids` still there (a zombie counts: it was not reaped) once the client is gone. The last copy of the
    /// client may be released a moment after the call that used it returned (by the thread that ran it), and its
    /// ssh processes are ended then: they are waited for, up to the hang guard.
    func running(_ pids: [pid_t]) async -> [pid_t] {
        func exists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: hangGuard)
        while clock.now < end, pids.contains(where: exists) { try? await Task.sleep(for: .milliseconds(20)) }
        return pids.filter(exists)
    }

    @Test(.enabled(if: socketPresent && sshdPresent))
    func stateLogsAndExecOverSSHAreTheSocketsAndEverySSHEnds() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let directory = try await TLSTestProject.shared.directory()
        let environment = server.environment()
        let local = adapter(ProcessInfo.processInfo.environment, directory)
        var remote: ComposeAdapter? = adapter(environment, directory)
        let endpoint = try #require(try remote?.engineEndpoint.get())
        #expect(!endpoint.isLocal)

        let overSocket = try await local.state(of: TLSTestProject.name).get()
        let overSSH = try #require(try await remote?.state(of: TLSTestProject.name).get())
        #expect(overSSH.containers.compactMap(\.service).sorted() == ["finished", "running"])
        #expect(overSSH == overSocket)

        let socketLog = try await local.logs(of: "finished", in: TLSTestProject.name, tail: 50, timeout: .seconds(20))
            .get()
        let sshLog = try #require(
            try await remote?.logs(of: "finished", in: TLSTestProject.name, tail: 50, timeout: .seconds(20)).get())
        #expect(sshLog.result.stdout.contains(TLSTestProject.logLine))
        #expect(sshLog.result.stdout == socketLog.result.stdout)

        let inside = try #require(
            try await remote?.exec(
                ["sh", "-c", "echo over-ssh; echo to-stderr >&2; exit 4"], in: "running", project: TLSTestProject.name,
                timeout: .seconds(20)
            ).get())
        #expect(inside.result.exitStatus == 4)
        #expect(inside.result.stdout == "over-ssh\n" && inside.result.stderr == "to-stderr\n")
        // No docker CLI: the only processes are the ssh connections, each dialing the engine over there.
        #expect(remote?.processesStarted == 0)
        #expect(remote.map { $0.engineRequests > 0 } == true)

        let vantage = await ContainerVantage.locate(
            "running", selector: ComposeProject.Selector(name: TLSTestProject.name), compose: try #require(remote),
            environment: environment, cancellation: CancellationFlag())
        guard case .failure(let error) = vantage else {
            Issue.record("in: on an ssh engine must not stand in the container")
            return
        }
        #expect(error.cause == "remote-engine")
        #expect(error.description.contains(server.host))

        // The connections were kept between requests (fewer ssh than requests), and every ssh ends with the client.
        let started = server.sshStarted
        #expect(!started.isEmpty)
        #expect(started.count < (remote?.engineRequests ?? 0))
        remote = nil
        let left = await running(started)
        #expect(left.isEmpty, "ssh left running: \(left)")
    }

    @Test(.enabled(if: socketPresent && sshdPresent)) func aRunOverSSHStartsNoDockerProcess() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let directory = try await TLSTestProject.shared.directory()
        // A docker on PATH that logs each start, so that a docker process started for state would be seen.
        let log = server.folder + "/docker-argv.log"
        let realDocker = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/docker" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        try "#!/bin/sh\necho \"$*\" >> '\(log)'\nexec '\(realDocker)' \"$@\"\n"
            .write(toFile: server.folder + "/bin/docker", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: server.folder + "/bin/docker")
        try RemoteEngineTLSTests.runbook.write(toFile: server.folder + "/ssh.yml", atomically: true, encoding: .utf8)

        let run = await ProcessRunner.run(
            [EngineClientRunTests.binary, "run", server.folder + "/ssh.yml", "--format", "json"],
            environment: server.environment(), workingDirectory: directory, timeout: hangGuard)
        try RemoteEngineTLSTests.expectRemoteRun(run)
        #expect(!server.sshStarted.isEmpty)
        #expect(await running(server.sshStarted).isEmpty)
        #expect(
            !FileManager.default.fileExists(atPath: log),
            "docker was started: \(String(describing: try? String(contentsOfFile: log, encoding: .utf8)))")
    }

    @Test(.enabled(if: socketPresent && sshdPresent)) func requestsOnManyThreadsShareAFewSSHConnections() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        _ = try await TLSTestProject.shared.directory()
        let expected = try await adapter(ProcessInfo.processInfo.environment).state(of: TLSTestProject.name).get()
        let environment = server.environment()
        var engine = DockerEngine(
            endpoint: try EngineEndpoint.resolve(environment: environment).get(), environment: environment)
        _ = try engine.negotiate(timeout: .seconds(20), cancellation: []).get()
        let threads = 8
        let reads = await RemoteEngineTLSTests.projectStates(engine, threads: threads, each: 3)
        #expect(reads.count == threads * 3)
        #expect(reads.allSatisfy { $0 == expected })
        // 8 threads asking at once, but at most 4 requests in flight over ssh: at most 4 connections, the negotiation's
        // among them, each an ssh process (sshd drops new connections beyond MaxStartups at random).
        #expect(DockerEngine.sshConcurrency < threads)
        #expect(
            engine.sshConnectionsStarted >= 1 && engine.sshConnectionsStarted <= DockerEngine.sshConcurrency,
            "\(engine.sshConnectionsStarted) ssh connections")
        #expect(server.sshStarted.count == engine.sshConnectionsStarted)
    }

    @Test(.enabled(if: socketPresent && sshdPresent)) func aConnectionLibcurlClosesEndsItsSSHAtOnce() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let environment = server.environment()
        var engine = DockerEngine(
            endpoint: try EngineEndpoint.resolve(environment: environment).get(), environment: environment)
        _ = try engine.negotiate(timeout: .seconds(20), cancellation: []).get()
        #expect(engine.sshConnectionsOpen == 1)
        // GET /events streams until the client goes: the request times out and libcurl closes the pooled connection,
        // while the client, its pool and its dialer live on. Its ssh must end then, not when the client goes.
        let client = engine
        let answer = await offload {
            client.send("GET", "/events", timeout: .seconds(1), readLimit: 1 << 20, cancellation: [])
        }
        guard case .failure = answer else {
            Issue.record("an endless /events answered within a second")
            return
        }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: hangGuard)
        while engine.sshConnectionsOpen > 0, clock.now < end { try await Task.sleep(for: .milliseconds(20)) }
        #expect(engine.sshConnectionsOpen == 0)
        #expect(await running(server.sshStarted).isEmpty)
        withExtendedLifetime(engine) {}
    }

    /// The error a state read ends with in this environment, and the ssh processes it started.
    func stateError(_ environment: [String: String]) async -> ComposeError? {
        let remote = adapter(environment)
        guard case .failure(let error) = await remote.state(of: TLSTestProject.name) else { return nil }
        #expect(remote.processesStarted == 0)
        return error
    }

    @Test(.enabled(if: sshdPresent)) func aFailingSSHSaysWhyInItsOwnWordsAndWhatToDo() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }

        // Nothing listens: ssh's own message.
        let closed = try Loopback.freePort()
        let refused = await stateError(server.environment(host: "ssh://root@127.0.0.1:\(closed)"))
        #expect(refused?.cause == "engine-unreachable")
        #expect(
            refused?.description.contains("ssh: connect to host 127.0.0.1 port \(closed): Connection refused") == true,
            "\(String(describing: refused))")

        // A key the server does not accept: BatchMode fails at once, and the message says what diagnose needs.
        var stranger = server.environment()
        stranger["TEST_SSH_KEY"] = server.folder + "/stranger_key"
        let denied = await stateError(stranger)
        #expect(denied?.description.contains("Permission denied (publickey)") == true, "\(String(describing: denied))")
        #expect(denied?.description.contains("BatchMode=yes") == true)

        // An address the docker CLI refuses is refused before any ssh starts.
        let before = server.sshStarted.count
        let password = await stateError(server.environment(host: "ssh://root:hunter2@127.0.0.1:\(server.port)"))
        #expect(password?.description.contains("a password in the address is not supported") == true)
        #expect(password?.description.contains("hunter2") == false)
        let option = await stateError(server.environment(host: "ssh://-oProxyCommand=x"))
        #expect(option?.cause == "engine-unreachable")
        #expect(server.sshStarted.count == before)
        #expect(await running(server.sshStarted).isEmpty)
    }

    @Test func anSSHAddressIsSplitAsTheDockerCLISplitsIt() throws {
        func endpoint(_ address: String) -> Result<EngineEndpoint, ComposeError> {
            EngineEndpoint.resolve(environment: ["DOCKER_HOST": address])
        }
        func command(_ address: String) throws -> [String] {
            guard case .ssh(let destination) = try endpoint(address).get().transport else {
                throw TestSetupError("\(address) is not an ssh endpoint")
            }
            return destination.command(connectTimeout: .seconds(10))
        }
        let options = ["ssh", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes", "-T"]
        #expect(try command("ssh://host") == options + ["--", "host", "docker", "system", "dial-stdio"])
        #expect(
            try command("ssh://me@host:2200") == options + [
                "-l", "me", "-p", "2200", "--", "host", "docker", "system",
                "dial-stdio",
            ])
        #expect(
            try command("ssh://me@[::1]:22/run/user/1000/docker.sock") == options + [
                "-l", "me", "-p", "22", "--", "::1", "docker", "--host=unix:///run/user/1000/docker.sock", "system",
                "dial-stdio",
            ])
        // The remote command is one line for the remote shell: a path that needs quoting is quoted.
        #expect(
            try command("ssh://host/var/run/my%20docker.sock").suffix(4) == [
                "docker", "'--host=unix:///var/run/my docker.sock'", "system", "dial-stdio",
            ])
        for refused in ["ssh://", "ssh://me:pw@host", "ssh://host?x=1", "ssh://host#f", "ssh://-oProxyCommand=x"] {
            #expect(throws: ComposeError.self, "\(refused)") { try endpoint(refused).get() }
        }
    }
}
