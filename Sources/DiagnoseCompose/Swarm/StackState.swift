import Foundation

/// Which orchestrator runs the project: `DIAGNOSE_ORCHESTRATOR` (or `--orchestrator`) names it; `auto` reads compose
/// containers first and a Swarm stack of the same name only when there are none.
public enum Orchestrator: String, Sendable, Hashable, CaseIterable {
    /// Compose containers first, else a stack.
    case auto
    /// Only containers labelled by compose.
    case compose
    /// Only a stack deployed with `docker stack deploy`: services, tasks and the task containers on this node.
    case swarm

    /// The choice the environment makes, or why it makes none.
    public static func from(environment: [String: String]) -> Result<Orchestrator, ComposeError> {
        let raw = environment["DIAGNOSE_ORCHESTRATOR"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if raw.isEmpty { return .success(.auto) }
        guard let found = Orchestrator(rawValue: raw) else {
            let shown = String(raw.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(40))
            return .failure(
                .dockerFailed(
                    command: "DIAGNOSE_ORCHESTRATOR",
                    message: "'\(shown)' is no orchestrator; use auto, compose or swarm"))
        }
        return .success(found)
    }
}

/// A stack deployed to Swarm, as its manager describes it: its services and their tasks.
public struct StackState: Sendable, Hashable {
    /// The stack's name (`com.docker.stack.namespace`).
    public var namespace: String
    /// Its services, by short name.
    public var services: [StackService]

    /// Creates a stack state.
    public init(namespace: String, services: [StackService]) {
        self.namespace = namespace
        self.services = services
    }

    /// The service of this short name (`backend` for `NAMESPACE_backend`).
    public func service(_ name: String) -> StackService? { services.first { $0.shortName == name } }
}

/// One Swarm service (`GET /services`) with its tasks (`GET /tasks`), the parts probes read.
public struct StackService: Sendable, Hashable {
    /// The service's ID.
    public var id: String
    /// Its full name, `NAMESPACE_service`.
    public var name: String
    /// The compose service name it came from.
    public var shortName: String
    /// Replicas asked for; nil for a global service (one task per node).
    public var desiredReplicas: Int?
    /// When its spec last changed (RFC 3339): the tasks from then on are the current deployment's.
    public var updatedAt: String?
    /// Its placement constraints (`node.labels.zone==a`).
    public var constraints: [String]
    /// The image its tasks run.
    public var image: String
    /// Its tasks, newest first, the history the manager keeps included.
    public var tasks: [StackTask]
    /// Its task template, canonical (`specDigest`): a task made from the current spec carries the same.
    public var specDigest: String?

    /// Creates a service.
    public init(
        id: String, name: String, shortName: String, desiredReplicas: Int?, updatedAt: String?, constraints: [String],
        image: String, tasks: [StackTask]
    ) {
        self.id = id
        self.name = name
        self.shortName = shortName
        self.desiredReplicas = desiredReplicas
        self.updatedAt = updatedAt
        self.constraints = constraints
        self.image = image
        self.tasks = tasks
    }

    /// The tasks Swarm wants running now (desired state `running` or `ready`), newest first.
    public var currentTasks: [StackTask] { tasks.filter { ["running", "ready"].contains($0.desiredState) } }

    /// The current tasks that run.
    public var runningTasks: [StackTask] { currentTasks.filter { $0.state == "running" } }

    /// Whether the task was made from the service's current spec: the same task template. (`UpdatedAt` is no
    /// guide: Swarm also moves it when an update pauses on a failing task, after the failing tasks were made.)
    public func isCurrent(_ task: StackTask) -> Bool {
        guard let specDigest, let digest = task.specDigest else { return true }
        return digest == specDigest
    }

    /// Tasks of the current spec that ended in failure, newest first.
    public var failedTasks: [StackTask] {
        tasks.filter { ["failed", "rejected"].contains($0.state) && isCurrent($0) }
    }

    /// When the first task of the current spec was made (RFC 3339), else when the spec last changed: where the
    /// current deployment's log starts.
    public var deployedAt: String? {
        tasks.filter(isCurrent).compactMap(\.createdAt).min() ?? updatedAt
    }
}

/// One task of a service: a slot's attempt, and what became of it.
public struct StackTask: Sendable, Hashable {
    /// The task's ID.
    public var id: String
    /// Its slot (replica number) in a replicated service; nil in a global one.
    public var slot: Int?
    /// The node it was given to, empty while unassigned.
    public var nodeID: String
    /// What the orchestrator wants: `running`, `ready`, `shutdown`...
    public var desiredState: String
    /// What it is: `new`, `pending`, `assigned`, `accepted`, `preparing`, `starting`, `running`, `complete`,
    /// `failed`, `shutdown`, `rejected`, `orphaned`, `remove`.
    public var state: String
    /// The scheduler's or the agent's message (`started`, `pending task scheduling`).
    public var message: String
    /// The error that ended or holds it (`no suitable node (...)`, `task: non-zero exit (2)`, `No such image: ...`).
    public var error: String
    /// Its container's exit code, when it ended.
    public var exitCode: Int?
    /// Its container, when one was created.
    public var containerID: String?
    /// When the task was created (RFC 3339).
    public var createdAt: String?
    /// When its status last changed (RFC 3339).
    public var timestamp: String?
    /// The spec it was made from, canonical (`specDigest`).
    public var specDigest: String?

    /// Creates a task.
    public init(
        id: String, slot: Int?, nodeID: String, desiredState: String, state: String, message: String, error: String,
        exitCode: Int?, containerID: String?, createdAt: String?, timestamp: String?
    ) {
        self.id = id
        self.slot = slot
        self.nodeID = nodeID
        self.desiredState = desiredState
        self.state = state
        self.message = message
        self.error = error
        self.exitCode = exitCode
        self.containerID = containerID
        self.createdAt = createdAt
        self.timestamp = timestamp
    }

    /// A task spec (or a service's task template) as canonical JSON, without `Runtime`, which the engine adds to the
    /// template only.
    package static func specDigest(_ spec: Any?) -> String? {
        guard var spec = spec as? [String: Any] else { return nil }
        spec["Runtime"] = nil
        guard let data = try? JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

extension StackState {
    /// The stack from the engine's `GET /services` and `GET /tasks` answers: its services by short name, each with
    /// its tasks newest first.
    package static func assemble(namespace: String, services: [[String: Any]], tasks: [[String: Any]]) -> StackState {
        var byService: [String: [StackTask]] = [:]
        for object in tasks {
            guard let (service, task) = StackTask.parse(object) else { continue }
            byService[service, default: []].append(task)
        }
        let found = StackService.parse(services: services, namespace: namespace).map { service in
            var service = service
            service.tasks = (byService[service.id] ?? []).sorted { ($0.createdAt ?? "") > ($1.createdAt ?? "") }
            return service
        }
        return StackState(namespace: namespace, services: found.sorted { $0.shortName < $1.shortName })
    }
}

extension StackService {
    /// Reads `GET /services` objects of one stack; services of another stack are left out.
    package static func parse(services: [[String: Any]], namespace: String) -> [StackService] {
        services.compactMap { object in
            guard let id = object["ID"] as? String, let spec = object["Spec"] as? [String: Any],
                let name = spec["Name"] as? String
            else { return nil }
            let labels = spec["Labels"] as? [String: String] ?? [:]
            guard labels["com.docker.stack.namespace"] == namespace else { return nil }
            let short = name.hasPrefix(namespace + "_") ? String(name.dropFirst(namespace.count + 1)) : name
            let mode = spec["Mode"] as? [String: Any] ?? [:]
            let replicated = mode["Replicated"] as? [String: Any]
            let replicas: Int? =
                replicated.map { ($0["Replicas"] as? Int) ?? 1 } ?? (mode["Global"] != nil ? nil : 1)
            let template = spec["TaskTemplate"] as? [String: Any] ?? [:]
            let placement = template["Placement"] as? [String: Any] ?? [:]
            let container = template["ContainerSpec"] as? [String: Any] ?? [:]
            let image = (container["Image"] as? String).map { $0.split(separator: "@").first.map(String.init) ?? $0 }
            var service = StackService(
                id: id, name: name, shortName: short, desiredReplicas: replicas,
                updatedAt: object["UpdatedAt"] as? String,
                constraints: placement["Constraints"] as? [String] ?? [], image: image ?? "", tasks: [])
            service.specDigest = StackTask.specDigest(template)
            return service
        }
    }
}

extension StackTask {
    /// Reads one `GET /tasks` object, with the ID of its service.
    package static func parse(_ object: [String: Any]) -> (serviceID: String, task: StackTask)? {
        guard let id = object["ID"] as? String, let service = object["ServiceID"] as? String else { return nil }
        let status = object["Status"] as? [String: Any] ?? [:]
        let container = status["ContainerStatus"] as? [String: Any] ?? [:]
        let containerID = (container["ContainerID"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let task = StackTask(
            id: id, slot: object["Slot"] as? Int, nodeID: object["NodeID"] as? String ?? "",
            desiredState: object["DesiredState"] as? String ?? "", state: status["State"] as? String ?? "",
            message: status["Message"] as? String ?? "", error: status["Err"] as? String ?? "",
            exitCode: containerID == nil ? nil : container["ExitCode"] as? Int, containerID: containerID,
            createdAt: object["CreatedAt"] as? String, timestamp: status["Timestamp"] as? String)
        var withSpec = task
        withSpec.specDigest = specDigest(object["Spec"])
        return (service, withSpec)
    }
}
