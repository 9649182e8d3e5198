import DiagnosePlatform
import Foundation
import Synchronization

/// How this machine runs compose: the `docker compose` plugin (v2) or the standalone `docker-compose` (v1).
public struct ComposeCLI: Sendable, Hashable {
    /// Which kind of compose CLI it is.
    public enum Flavor: String, Sendable, Hashable {
        /// `docker compose`, a docker CLI plugin (compose v2), run as its own binary (see `prefix`).
        case plugin
        /// `docker-compose` on PATH (compose v1, or a v2 binary installed standalone).
        case standalone
    }

    /// Which kind it is.
    public var flavor: Flavor
    /// The words that start every compose command: the plugin's binary (`[/usr/local/lib/docker/cli-plugins/
    /// docker-compose]`), or `[/path/docker-compose]`.
    ///
    /// The plugin is run directly, in the standalone mode every compose v2 binary has (it then reads DOCKER_HOST,
    /// the context and the config file itself, as under the docker CLI), and prints what `docker compose` prints:
    /// `docker compose config` is three Go processes (the docker CLI, the plugin's metadata call, the plugin) and
    /// twice the CPU and wall time (measured: 0.117 s of CPU against 0.060 s, 0.110 s against 0.061 s of wall, the
    /// lab's file, byte-identical output).
    public var prefix: [String]

    /// Where the docker CLI looks for plugins, in its order: the config file's `cliPluginsExtraDirs`, the user's
    /// config folder, then the system folders.
    public static func pluginFolders(environment: [String: String]) -> [String] {
        let config =
            environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.docker" }
        let extra =
            config.flatMap { FileManager.default.contents(atPath: $0 + "/config.json") }
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            .flatMap { $0["cliPluginsExtraDirs"] as? [String] } ?? []
        return extra + (config.map { [$0 + "/cli-plugins"] } ?? []) + [
            "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
            "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins",
        ]
    }

    /// Finds compose without running anything: a `docker-compose` plugin file in the docker CLI's plugin folders
    /// (with a `docker` on PATH), else `docker-compose` on PATH. `DIAGNOSE_COMPOSE=v1` (or `standalone`) skips the plugin, for a host where the
    /// stack is driven with `docker-compose` although the plugin is installed; `v2` (or `plugin`) insists on it.
    public static func detect(environment: [String: String]) -> Result<ComposeCLI, ComposeError> {
        let docker = executable(named: "docker", environment: environment)
        let choice = environment["DIAGNOSE_COMPOSE"]?.lowercased() ?? ""
        let wantsPlugin = !["v1", "standalone"].contains(choice)
        if docker != nil, wantsPlugin {
            for folder in pluginFolders(environment: environment)
            where FileManager.default.isExecutableFile(atPath: folder + "/docker-compose") {
                return .success(ComposeCLI(flavor: .plugin, prefix: [folder + "/docker-compose"]))
            }
        }
        if ["v2", "plugin"].contains(choice) { return .failure(docker == nil ? .dockerMissing : .composeMissing) }
        if let standalone = executable(named: "docker-compose", environment: environment) {
            return .success(ComposeCLI(flavor: .standalone, prefix: [standalone]))
        }
        return .failure(docker == nil ? .dockerMissing : .composeMissing)
    }

    /// The first executable file of this name on the environment's PATH.
    static func executable(named name: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// The resolved configuration printed by the compose CLI's `config`.
public struct ComposeConfigOutput: Sendable, Hashable {
    /// The command that ran.
    public var command: [String]
    /// How it ended and what it printed; stdout is the resolved YAML and holds secrets.
    public var result: ProcessResult
}

/// A service's log as read for a probe.
public struct ServiceLog: Sendable, Hashable {
    /// The container whose run the log is of: the service's first current one (for a stack, the newest task's
    /// when none is current).
    public var container: ContainerInfo
    /// What was read, both streams in order in `stdout`.
    public var result: ProcessResult
    /// The docker command that reads the same lines, for the evidence.
    public var command: String
}

/// A program run inside a service's container with `docker exec`.
public struct ContainerExecution: Sendable, Hashable {
    /// The container it ran in.
    public var container: ContainerInfo
    /// The full docker command.
    public var command: [String]
    /// How it ended and what it printed.
    public var result: ProcessResult
}

/// The one way diagnose talks to Docker Compose, shared by every compose-backed probe of an invocation.
///
/// Container state is read from the engine once per project through the Engine API (`DockerEngine`: the
/// containers by label, each inspected; over ssh too, through `docker system dial-stdio` there) and shared by every
/// caller, including concurrent ones; `config` runs once per project and
/// a service's log is read once per number of lines asked for, however many patterns are searched in it.
public final class ComposeAdapter: Sendable {
    /// The environment docker and compose run with (PATH, DOCKER_HOST, COMPOSE_PROJECT_NAME...).
    public let environment: [String: String]
    /// The folder relative project paths start from.
    public let workingDirectory: String
    /// How long one `docker` call for state may take.
    public let stateTimeout: Duration

    private let cli: Result<ComposeCLI, ComposeError>
    private let states = SingleFlight<String, Result<ProjectState, ComposeError>>()
    private let configs = SingleFlight<ComposeProject, Result<ComposeConfigOutput, ComposeError>>()
    private let logReads = SingleFlight<LogRead, Result<ServiceLog, ComposeError>>()
    private let started = Atomic<Int>(0)
    private let requests = Atomic<Int>(0)
    private let endpoint: Result<EngineEndpoint, ComposeError>
    private let engines = SingleFlight<String, Result<DockerEngine, ComposeError>>()
    /// Compose, a Swarm stack, or the first of them found (`DIAGNOSE_ORCHESTRATOR`).
    public let orchestrator: Result<Orchestrator, ComposeError>

    /// An adapter for this environment; finding compose costs a few file checks, no process.
    public init(environment: [String: String], workingDirectory: String, stateTimeout: Duration = .seconds(10)) {
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stateTimeout = stateTimeout
        cli = ComposeCLI.detect(environment: environment)
        endpoint = EngineEndpoint.resolve(environment: environment)
        orchestrator = Orchestrator.from(environment: environment)
    }

    /// The engine's endpoint as the environment names it, or why it names none usable.
    package var engineEndpoint: Result<EngineEndpoint, ComposeError> { endpoint }

    /// How many Engine API requests this adapter made (the version negotiation included).
    public var engineRequests: Int { requests.load(ordering: .relaxed) }

    /// The stack's name when the project in the working folder (or the one named) runs as a Swarm stack:
    /// `--orchestrator swarm` says so, or under `auto` its shared state is one. Nil for compose, and when the state
    /// cannot be read.
    public func stackName(
        _ selector: ComposeProject.Selector = ComposeProject.Selector(), cancellation: CancellationFlag? = nil
    ) async -> String? {
        let name = project(selector).name
        switch orchestrator {
        case .success(.swarm): return name
        case .success(.compose), .failure: return nil
        case .success(.auto):
            let state = await self.state(of: name, cancellation: cancellation)
            return (try? state.get().stack?.services.isEmpty == false) == true ? name : nil
        }
    }

    /// The engine client, its version negotiated once per adapter.
    private func engine(cancellation: CancellationFlag?) async -> Result<DockerEngine, ComposeError> {
        await engines.value(for: "") {
            let resolved = self.endpoint
            let timeout = self.stateTimeout
            let flags = cancellation.map { [$0] } ?? []
            return await offload {
                resolved.flatMap { found in
                    var client = DockerEngine(
                        endpoint: found, environment: self.environment, sshConnectTimeout: timeout)
                    self.requests.add(1, ordering: .relaxed)
                    return client.negotiate(timeout: timeout, cancellation: flags).map { _ in client }
                }
            }
        }.value
    }

    /// Runs blocking work with the negotiated engine client on its own thread.
    private func withEngine<T: Sendable>(
        cancellation: CancellationFlag?,
        _ work: @escaping @Sendable (DockerEngine, [CancellationFlag]) -> Result<T, ComposeError>
    ) async -> Result<T, ComposeError> {
        let flags = cancellation.map { [$0] } ?? []
        switch await engine(cancellation: cancellation) {
        case .failure(let error): return .failure(error)
        case .success(let client): return await offload { work(client, flags) }
        }
    }

    /// The compose CLI found, or why none was.
    public var composeCLI: Result<ComposeCLI, ComposeError> { cli }

    /// How many docker and compose processes this adapter started.
    public var processesStarted: Int { started.load(ordering: .relaxed) }

    /// The project a probe's selector names, resolved against this adapter's environment and folder.
    public func project(_ selector: ComposeProject.Selector) -> ComposeProject {
        let flavor = (try? cli.get().flavor) ?? .plugin
        return ComposeProject.resolve(
            name: selector.name, file: selector.file, directory: selector.directory, envFile: selector.envFile,
            environment: environment, workingDirectory: workingDirectory, flavor: flavor)
    }

    // MARK: Compose CLI

    /// The compose CLI's `config` for the project, run once per project per adapter.
    public func config(
        of project: ComposeProject, timeout: Duration, cancellation: CancellationFlag? = nil
    ) async -> Result<ComposeConfigOutput, ComposeError> {
        await configs.value(for: project) {
            await self.runConfig(project, timeout: timeout, cancellation: cancellation)
        }.value
    }

    private func runConfig(
        _ project: ComposeProject, timeout: Duration, cancellation: CancellationFlag?
    ) async -> Result<ComposeConfigOutput, ComposeError> {
        let cli: ComposeCLI
        switch self.cli {
        case .success(let found): cli = found
        case .failure(let error): return .failure(error)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: project.directory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            // Launching in a missing folder fails like a missing program; say what is really missing.
            return .failure(
                .dockerFailed(
                    command: "docker compose config", message: "the project folder \(project.directory) does not exist")
            )
        }
        if let missing = project.files.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            return .failure(
                .dockerFailed(
                    command: "docker compose config",
                    message:
                        "there is no compose file at \(missing); run diagnose in the stack's folder or pass --set compose_file=PATH"
                ))
        }
        let command = cli.prefix + project.options + ["config"]
        started.add(1, ordering: .relaxed)
        let result = await ProcessRunner.run(
            command, environment: environment, workingDirectory: project.directory, timeout: timeout,
            captureLimit: 4 << 20, cancellation: cancellation)
        switch result.ending {
        case .launchFailed: return .failure(cli.flavor == .plugin ? .dockerMissing : .composeMissing)
        case .cancelled: return .failure(.cancelled)
        case .timedOut:
            return .failure(
                .dockerFailed(command: display(command), message: "no answer within \(timeout.shortDescription)"))
        case .exited, .signalled: return .success(ComposeConfigOutput(command: command, result: result))
        }
    }

    // MARK: Engine state

    /// Every container of the project, read from the engine once per adapter and shared by all callers.
    public func state(of project: String, cancellation: CancellationFlag? = nil) async -> Result<
        ProjectState, ComposeError
    > {
        await states.value(for: project) { await self.readState(project, cancellation: cancellation) }.value
    }

    private func readState(_ project: String, cancellation: CancellationFlag?) async -> Result<
        ProjectState, ComposeError
    > {
        let orchestrator: Orchestrator
        switch self.orchestrator {
        case .failure(let error): return .failure(error)
        case .success(let chosen): orchestrator = chosen
        }
        let timeout = stateTimeout
        return await withEngine(cancellation: cancellation) { client, flags in
            if orchestrator != .swarm {
                self.requests.add(1, ordering: .relaxed)
                switch client.containerIDs(project: project, timeout: timeout, cancellation: flags) {
                case .failure(let error): return .failure(error)
                case .success(let ids) where !ids.isEmpty || orchestrator == .compose:
                    self.requests.add(ids.count, ordering: .relaxed)
                    return client.projectState(ids: ids, project: project, timeout: timeout, cancellation: flags)
                case .success: break
                }
            }
            return self.readStack(
                project, client: client, required: orchestrator == .swarm, timeout: timeout, cancellation: flags)
        }
    }

    /// The stack named `namespace`: its services and tasks, and its task containers on this node. Without a stack
    /// (or a Swarm) and not `required`, the empty compose project it then is.
    private func readStack(
        _ namespace: String, client: DockerEngine, required: Bool, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<ProjectState, ComposeError> {
        requests.add(1, ordering: .relaxed)
        let stack: StackState
        switch client.stack(namespace: namespace, timeout: timeout, cancellation: cancellation) {
        case .failure(let error): return .failure(error)
        case .success(nil) where required:
            return .failure(
                .dockerFailed(
                    command: "GET /services",
                    message:
                        "the engine at \(client.endpoint) is not a Swarm manager: point DOCKER_HOST at a manager of the swarm, or use --orchestrator compose"
                ))
        case .success(nil): return .success(ProjectState(project: namespace, containers: []))
        case .success(let found?): stack = found
        }
        if stack.services.isEmpty && !required { return .success(ProjectState(project: namespace, containers: [])) }
        requests.add(stack.services.isEmpty ? 0 : 2, ordering: .relaxed)
        return client.stackContainerIDs(namespace: namespace, timeout: timeout, cancellation: cancellation).flatMap {
            ids in
            self.requests.add(ids.count, ordering: .relaxed)
            return client.projectState(ids: ids, project: namespace, timeout: timeout, cancellation: cancellation)
                .map { found in ProjectState(project: namespace, containers: found.containers, stack: stack) }
        }
    }

    /// The service's first container (by replica number), or why there is none.
    public func container(
        of service: String, in project: String, cancellation: CancellationFlag? = nil
    ) async -> Result<ContainerInfo, ComposeError> {
        await state(of: project, cancellation: cancellation).flatMap { state in
            guard let first = state.containers(of: service).first else {
                return .failure(.notCreated(service: service, project: project))
            }
            return .success(first)
        }
    }

    // MARK: Containers

    /// The last `tail` lines of the service's container log, standard output and error interleaved in order; with
    /// `timestamps`, each line starts with the engine's RFC 3339 time and a space (`docker logs --timestamps`).
    ///
    /// Read once per service, `tail` and `timestamps` per adapter: the steps searching one log for different
    /// patterns share it.
    public func logs(
        of service: String, in project: String, tail: Int, timestamps: Bool = false, timeout: Duration,
        cancellation: CancellationFlag? = nil
    ) async -> Result<ServiceLog, ComposeError> {
        await logReads.value(for: LogRead(project: project, service: service, tail: tail, timestamps: timestamps)) {
            await self.readLogs(
                of: service, in: project, tail: tail, timestamps: timestamps, timeout: timeout,
                cancellation: cancellation)
        }.value
    }

    private struct LogRead: Hashable, Sendable {
        var project: String
        var service: String
        var tail: Int
        var timestamps: Bool
    }

    private func readLogs(
        of service: String, in project: String, tail: Int, timestamps: Bool, timeout: Duration,
        cancellation: CancellationFlag?
    ) async -> Result<ServiceLog, ComposeError> {
        let state: ProjectState
        switch await self.state(of: project, cancellation: cancellation) {
        case .failure(let error): return .failure(error)
        case .success(let found): state = found
        }
        if let stack = state.stack {
            return await readServiceLogs(
                of: service, in: stack, state: state, tail: tail, timestamps: timestamps, timeout: timeout,
                cancellation: cancellation)
        }
        guard let container = state.containers(of: service).first else {
            return .failure(.notCreated(service: service, project: project))
        }
        // Only the current run's lines (and a second before it, for a crash loop's previous attempt): an
        // error fixed by a restart must not be found again in the container's older history.
        let since = container.state.startedAt.flatMap(ContainerInfo.parseDockerDate).map {
            String(Int($0.timeIntervalSince1970) - 1)
        }
        let limit = 64 << 20
        return await withEngine(cancellation: cancellation) { client, flags in
            self.requests.add(1, ordering: .relaxed)
            return client.logs(
                container.id, tty: container.config.tty, since: since, tail: tail, timestamps: timestamps,
                limit: limit, timeout: timeout, cancellation: flags
            ).map { stream in
                ServiceLog(
                    container: container, result: Self.merged(stream, limit: limit),
                    command: Self.logCommand("docker logs", container.name, tail: tail, timestamps: timestamps)
                        + (container.state.startedAt.map { " --since \($0) (this run)" } ?? ""))
            }
        }
    }

    /// A stack service's log across its tasks (`docker service logs`), since its spec last changed (and a second
    /// before): the attempts of the current deployment, the failed ones included, and none from before a fix.
    private func readServiceLogs(
        of service: String, in stack: StackState, state: ProjectState, tail: Int, timestamps: Bool, timeout: Duration,
        cancellation: CancellationFlag?
    ) async -> Result<ServiceLog, ComposeError> {
        guard let found = stack.service(service),
            let container = state.containers(of: service).first ?? state.latestContainer(of: service)
        else { return .failure(.notCreated(service: service, project: stack.namespace)) }
        let updated = found.deployedAt.flatMap(ContainerInfo.parseDockerDate)
        let since = updated.map { String(Int($0.timeIntervalSince1970) - 1) }
        let limit = 64 << 20
        return await withEngine(cancellation: cancellation) { client, flags in
            self.requests.add(1, ordering: .relaxed)
            return client.serviceLogs(
                found.id, since: since, tail: tail, timestamps: timestamps, limit: limit, timeout: timeout,
                cancellation: flags
            ).map { stream in
                ServiceLog(
                    container: container, result: Self.merged(stream, limit: limit),
                    command: Self.logCommand("docker service logs", found.name, tail: tail, timestamps: timestamps)
                        + (found.deployedAt.map { " --since \($0) (the current spec's first task)" } ?? ""))
            }
        }
    }

    /// Both streams in their order, as `docker logs` merged into one pipe gives them; the end kept.
    private static func merged(_ stream: EngineStream, limit: Int) -> ProcessResult {
        let kept = stream.combined.suffix(limit)
        return ProcessResult(
            ending: .exited(0), stdout: String(decoding: kept, as: UTF8.self), stderr: "",
            stdoutBytes: stream.combined.count, stderrBytes: 0, captureLimit: limit)
    }

    /// `$ docker logs --tail N [--timestamps] NAME`, for the evidence.
    private static func logCommand(_ verb: String, _ name: String, tail: Int, timestamps: Bool) -> String {
        "$ \(verb) --tail \(tail)\(timestamps ? " --timestamps" : "") \(name)"
    }

    /// Runs `argv` inside the service's running container (`docker exec`, no TTY, no stdin).
    ///
    /// The timeout kills the local `docker exec`; a program inside the container that ignores the
    /// lost connection may outlive it.
    public func exec(
        _ argv: [String], in service: String, project: String, timeout: Duration, cancellation: CancellationFlag? = nil
    ) async -> Result<ContainerExecution, ComposeError> {
        let container: ContainerInfo
        switch await self.container(of: service, in: project, cancellation: cancellation) {
        case .failure(let error): return .failure(error)
        case .success(let found): container = found
        }
        guard container.isRunning else {
            return .failure(.notRunning(service: service, container: container.name, status: container.state.status))
        }
        let limit = ProcessRunner.defaultCaptureLimit
        return await withEngine(cancellation: cancellation) { client, flags in
            self.requests.add(3, ordering: .relaxed)
            return client.exec(container.id, command: argv, limit: 2 * limit, timeout: timeout, cancellation: flags)
                .map { answer in
                    let result = ProcessResult(
                        ending: answer.exitCode.map { .exited(Int32(truncatingIfNeeded: $0)) } ?? .timedOut,
                        stdout: String(decoding: answer.output.standardOutput.prefix(limit), as: UTF8.self),
                        stderr: String(decoding: answer.output.standardError.prefix(limit), as: UTF8.self),
                        stdoutBytes: answer.output.standardOutput.count,
                        stderrBytes: answer.output.standardError.count, captureLimit: limit)
                    return ContainerExecution(
                        container: container, command: ["docker", "exec", container.name] + argv, result: result)
                }
        }.flatMapError { error in
            if case .dockerFailed(_, let message) = error, message.contains("is not running") {
                return .failure(.notRunning(service: service, container: container.name, status: "stopped"))
            }
            if case .dockerFailed(_, let message) = error, message.hasPrefix("HTTP 404") {
                return .failure(.notCreated(service: service, project: project))
            }
            return .failure(error)
        }
    }

    private func display(_ command: [String]) -> String { command.map(shellQuoted).joined(separator: " ") }
}
