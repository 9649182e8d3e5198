import DiagnosePlatform
import Foundation

/// What `docker inspect` says about one container, the parts probes read.
public struct ContainerInfo: Sendable, Hashable, Decodable {
    /// The container's run state.
    public struct State: Sendable, Hashable, Decodable {
        /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
        public var status: String
        /// Whether the engine is restarting it after an exit.
        public var restarting: Bool
        /// Whether the kernel's OOM killer ended its last run.
        public var oomKilled: Bool
        /// The last run's exit code.
        public var exitCode: Int
        /// The engine's error for the last start, if any.
        public var error: String?
        /// When the current or last run started (RFC 3339).
        public var startedAt: String?
        /// When the last run ended (RFC 3339); Docker's zero time `0001-01-01T00:00:00Z` when it never ended.
        public var finishedAt: String?
        /// Its healthcheck's state, when it has a healthcheck.
        public var health: Health?
        /// The process id of its main process on the host, 0 when it does not run.
        public var pid: Int32?

        enum CodingKeys: String, CodingKey {
            case status = "Status", restarting = "Restarting", oomKilled = "OOMKilled", exitCode = "ExitCode"
            case error = "Error", startedAt = "StartedAt", health = "Health", pid = "Pid"
            case finishedAt = "FinishedAt"
        }
    }

    /// A healthcheck's state.
    public struct Health: Sendable, Hashable, Decodable {
        /// `starting`, `healthy` or `unhealthy`.
        public var status: String
        /// Consecutive failed checks.
        public var failingStreak: Int
        /// The last few checks, oldest first.
        public var log: [Check]

        enum CodingKeys: String, CodingKey {
            case status = "Status", failingStreak = "FailingStreak", log = "Log"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(String.self, forKey: .status)
            failingStreak = try container.decodeIfPresent(Int.self, forKey: .failingStreak) ?? 0
            log = try container.decodeIfPresent([Check].self, forKey: .log) ?? []
        }
    }

    /// One healthcheck run.
    public struct Check: Sendable, Hashable, Decodable {
        /// The check command's exit code.
        public var exitCode: Int
        /// What it printed.
        public var output: String

        enum CodingKeys: String, CodingKey { case exitCode = "ExitCode", output = "Output" }
    }

    /// The container's configuration, the parts probes read.
    public struct Config: Sendable, Hashable, Decodable {
        /// `NAME=value` lines of its environment.
        public var env: [String]
        /// Its labels.
        public var labels: [String: String]
        /// The image's or compose file's entrypoint, empty when none.
        public var entrypoint: [String]
        /// The command given to the entrypoint.
        public var cmd: [String]
        /// The healthcheck command (`["CMD-SHELL", "curl -f ..."]`, `["CMD", ...]`, `["NONE"]`), empty when none.
        public var healthcheck: [String]
        /// It runs with a TTY, so the engine sends its log and attached output raw rather than in stream frames.
        public var tty: Bool

        enum CodingKeys: String, CodingKey {
            case env = "Env", labels = "Labels", entrypoint = "Entrypoint", cmd = "Cmd", healthcheck = "Healthcheck"
            case tty = "Tty"
        }

        struct Healthcheck: Decodable {
            var test: [String]?
            enum CodingKeys: String, CodingKey { case test = "Test" }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            env = try container.decodeIfPresent([String].self, forKey: .env) ?? []
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            entrypoint = (try? container.decodeIfPresent([String].self, forKey: .entrypoint)) ?? []
            cmd = (try? container.decodeIfPresent([String].self, forKey: .cmd)) ?? []
            healthcheck = (try? container.decodeIfPresent(Healthcheck.self, forKey: .healthcheck))?.test ?? []
            tty = (try? container.decodeIfPresent(Bool.self, forKey: .tty)) ?? false
        }
    }

    /// A container port published on the host.
    public struct PortBinding: Sendable, Hashable, Decodable {
        /// The host address it is bound to; empty or `0.0.0.0` for every address.
        public var hostIP: String
        /// The host port, as Docker gives it (a number, or empty for "any free port" in a configuration).
        public var hostPort: String

        enum CodingKeys: String, CodingKey { case hostIP = "HostIp", hostPort = "HostPort" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostIP = try container.decodeIfPresent(String.self, forKey: .hostIP) ?? ""
            hostPort = try container.decodeIfPresent(String.self, forKey: .hostPort) ?? ""
        }
    }

    /// How the engine restarts it: `no`, `always`, `unless-stopped` or `on-failure`.
    public struct RestartPolicy: Sendable, Hashable, Decodable {
        /// The policy's name; empty means `no`.
        public var name: String
        /// For `on-failure`: how many restarts at most, 0 for no limit.
        public var maximumRetryCount: Int

        enum CodingKeys: String, CodingKey { case name = "Name", maximumRetryCount = "MaximumRetryCount" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
            maximumRetryCount = try container.decodeIfPresent(Int.self, forKey: .maximumRetryCount) ?? 0
        }
    }

    struct HostConfig: Decodable {
        var restartPolicy: RestartPolicy?
        var portBindings: [String: [PortBinding]?]?
        enum CodingKeys: String, CodingKey { case restartPolicy = "RestartPolicy", portBindings = "PortBindings" }
    }

    /// The full container id.
    public var id: String
    /// The container's name, without the leading slash.
    public var name: String
    /// How often the engine restarted it.
    public var restartCount: Int
    /// Its run state.
    public var state: State
    /// Its configuration.
    public var config: Config
    /// The networks it is attached to, by network name.
    public var networks: [String: Network]
    /// The program its main process runs (`Path`), empty when unknown.
    public var path: String
    /// That program's arguments (`Args`).
    public var args: [String]
    /// Its restart policy (`HostConfig.RestartPolicy`).
    public var restartPolicy: RestartPolicy?
    /// Published ports by container port (`8000/tcp`): the engine's live `NetworkSettings.Ports` when it has
    /// bindings, else the configured `HostConfig.PortBindings`. A port exposed but not published has no entry.
    public var publishedPorts: [String: [PortBinding]]

    /// One network attachment: the container's address there and the names it answers to.
    public struct Network: Sendable, Hashable, Decodable {
        /// The IPv4 address, empty when it has none.
        public var ipAddress: String
        /// Names it answers to on this network (compose adds the service name).
        public var aliases: [String]

        enum CodingKeys: String, CodingKey { case ipAddress = "IPAddress", aliases = "Aliases" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ipAddress = try container.decodeIfPresent(String.self, forKey: .ipAddress) ?? ""
            aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
        }
    }

    struct NetworkSettings: Decodable {
        var networks: [String: Network]?
        var ports: [String: [PortBinding]?]?
        enum CodingKeys: String, CodingKey { case networks = "Networks", ports = "Ports" }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", restartCount = "RestartCount", state = "State", config = "Config"
        case networkSettings = "NetworkSettings", path = "Path", args = "Args", hostConfig = "HostConfig"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let name = try container.decode(String.self, forKey: .name)
        self.name = name.hasPrefix("/") ? String(name.dropFirst()) : name
        restartCount = try container.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
        state = try container.decode(State.self, forKey: .state)
        config = try container.decode(Config.self, forKey: .config)
        let settings = try? container.decodeIfPresent(NetworkSettings.self, forKey: .networkSettings)
        networks = settings?.networks ?? [:]
        path = (try? container.decodeIfPresent(String.self, forKey: .path)) ?? ""
        args = (try? container.decodeIfPresent([String].self, forKey: .args)) ?? []
        let host = try? container.decodeIfPresent(HostConfig.self, forKey: .hostConfig)
        restartPolicy = host?.restartPolicy
        let live = (settings?.ports ?? [:]).compactMapValues { $0 }.filter { !$0.value.isEmpty }
        publishedPorts =
            live.isEmpty ? (host?.portBindings ?? [:]).compactMapValues { $0 }.filter { !$0.value.isEmpty } : live
    }

    /// The compose service it belongs to; for a Swarm task's container, its service's name within the stack
    /// (`backend` for `NAMESPACE_backend`), the name compose gave it.
    public var service: String? {
        if let service = config.labels["com.docker.compose.service"] { return service }
        guard let full = config.labels["com.docker.swarm.service.name"] else { return nil }
        if let namespace = config.labels["com.docker.stack.namespace"], full.hasPrefix(namespace + "_") {
            return String(full.dropFirst(namespace.count + 1))
        }
        return full
    }

    /// The Swarm task it runs, for a task's container.
    public var taskID: String? { config.labels["com.docker.swarm.task.id"] }

    /// Whether `docker-compose run` made it, rather than `up`.
    public var isOneOff: Bool { config.labels["com.docker.compose.oneoff"]?.lowercased() == "true" }

    /// Its replica number within the service: compose's container number, or a Swarm task's slot (the middle part
    /// of `com.docker.swarm.task.name`, `NAMESPACE_service.SLOT.TASKID`).
    public var number: Int {
        if let number = config.labels["com.docker.compose.container-number"].flatMap({ Int($0) }) { return number }
        let parts = config.labels["com.docker.swarm.task.name"]?.split(separator: ".") ?? []
        return parts.count >= 3 ? Int(parts[parts.count - 2]) ?? 0 : 0
    }

    /// Whether it runs now.
    public var isRunning: Bool { state.status == "running" }

    /// The command line its main process runs: `Path` and `Args`, else the configured entrypoint and command.
    public var commandLine: [String] { path.isEmpty ? config.entrypoint + config.cmd : [path] + args }

    /// The value of one variable in its environment, or nil when it is not set there.
    public func environmentValue(_ name: String) -> String? {
        let prefix = name + "="
        return config.env.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// The containers of one compose project, read from the engine once; for a Swarm stack of that name, its services
/// and tasks too, and the containers are the task containers on this node.
public struct ProjectState: Sendable, Hashable {
    /// The project's name.
    public var project: String
    /// Every container labelled with the project, one-off ones included; for a stack, every task container on this
    /// node, those of ended tasks included.
    public var containers: [ContainerInfo]
    /// The stack, when the project is one deployed to Swarm; nil for compose.
    public var stack: StackState?

    /// Creates a state.
    public init(project: String, containers: [ContainerInfo], stack: StackState? = nil) {
        self.project = project
        self.containers = containers
        self.stack = stack
    }

    /// The service's containers made by `up`, by replica number; for a stack, the containers of the tasks Swarm
    /// wants running now (an ended task's container is history), by slot.
    public func containers(of service: String) -> [ContainerInfo] {
        let own = containers.filter { $0.service == service && !$0.isOneOff }
        guard let stack else { return own.sorted { $0.number < $1.number } }
        let current = Set(stack.service(service)?.currentTasks.map(\.id) ?? [])
        return own.filter { $0.taskID.map(current.contains) ?? false }.sorted { $0.number < $1.number }
    }

    /// The service's most recent container of any task, running or ended: whose log and exit say what happened
    /// when no current task has a container.
    public func latestContainer(of service: String) -> ContainerInfo? {
        containers.filter { $0.service == service && !$0.isOneOff }.max {
            ($0.state.startedAt ?? "") < ($1.state.startedAt ?? "")
        }
    }

    /// The services that have containers (for a stack, every service of it), sorted.
    public var services: [String] {
        Set(containers.compactMap(\.service) + (stack?.services.map(\.shortName) ?? [])).sorted()
    }
}

extension ContainerInfo {
    /// Parses Docker's RFC 3339 timestamps, with or without fractional seconds (Docker gives nanoseconds).
    package static func parseDockerDate(_ text: String) -> Date? {
        var trimmed = text
        if let dot = text.firstIndex(of: "."),
            let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" })
        {
            trimmed = String(text[..<dot]) + String(text[zone...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: trimmed)
    }
}
