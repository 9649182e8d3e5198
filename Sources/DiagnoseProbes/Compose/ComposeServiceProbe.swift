import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Checks that a compose service's container runs, or runs and is healthy, from the project's shared state.
///
/// Causes: `not-created`, `not-started`, `exited`, `oom-killed`, `restarting`, `paused`, `unhealthy`,
/// `starting` (fail); `no-healthcheck`, `docker-missing`, `engine-unreachable`, `docker-error`, `cancelled` (error).
public struct ComposeServiceProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The container has exited.
        case exited
        /// Health was expected but the service has no healthcheck (error).
        case noHealthcheck = "no-healthcheck"
        /// No container of the compose project exists (error).
        case noProject = "no-project"
        /// The service has no container.
        case notCreated = "not-created"
        /// The container was created but never started.
        case notStarted = "not-started"
        /// The container was killed for running out of memory.
        case oomKilled = "oom-killed"
        /// The container is paused.
        case paused
        /// The container is restarting, or crash-looping.
        case restarting
        /// The healthcheck has not passed yet.
        case starting
        /// The healthcheck fails.
        case unhealthy
    }

    /// What the service must be.
    public enum Expectation: String, Sendable, Hashable {
        /// Its container runs.
        case running
        /// Its container runs and its healthcheck passes.
        case healthy
    }

    /// The service.
    public var service: String
    /// What it must be.
    public var expect: Expectation
    /// Its project.
    public var selector: ComposeProject.Selector

    /// Builds the probe from `service`, `expect` (`running` or `healthy`, default `running`) and the project arguments.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        service = try arguments.requiredString("service")
        expect =
            try arguments.choice("expect", ["running", "healthy"]).flatMap(Expectation.init(rawValue:)) ?? .running
        selector = try ComposeProject.Selector(arguments)
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let project = context.compose.project(selector)
        let state: ProjectState
        switch await context.compose.state(of: project.name, cancellation: context.cancellation) {
        case .failure(let error): return error.observation
        case .success(let found): state = found
        }
        let containers = state.containers(of: service)
        guard !state.containers.isEmpty else {
            // No container of the project at all: more likely diagnose is looking at the wrong project (run from
            // another folder, another project name) than every service being gone. The tool cannot tell.
            return .error(
                Cause.noProject.rawValue,
                "no container of compose project '\(project.name)' exists; run diagnose in the stack's folder, or set COMPOSE_PROJECT_NAME",
                evidence: ["project: \(project.name)", "folder: \(project.directory)"])
        }
        guard !containers.isEmpty else {
            let known = state.services
            let others =
                known.isEmpty
                ? "project '\(project.name)' has no containers at all"
                : "project '\(project.name)' has containers for: \(known.joined(separator: ", "))"
            return .fail(
                Cause.notCreated.rawValue, "service '\(service)' has no container: it was never created or was removed",
                evidence: [others + didYouMean(service, among: known)])
        }
        // With several replicas, the first one that does not meet the expectation speaks for the service.
        let judged = containers.map { judge($0) }
        return judged.first { $0.outcome != .pass } ?? judged[0]
    }

    /// How recent a restart by the restart policy must be for a running container to count as crash-looping.
    static let flappingWindow: TimeInterval = 60

    /// Judges one container against the expectation.
    func judge(_ container: ContainerInfo) -> Observation {
        let evidence = Self.evidence(container)
        let state = container.state
        let name = "service '\(service)' (\(container.name))"
        switch state.status {
        case "restarting" where state.oomKilled:
            return .fail(
                Cause.oomKilled.rawValue,
                "\(name) is restarting after the kernel killed it for exceeding its memory limit (restarted \(container.restartCount) times)",
                evidence: evidence)
        case "restarting":
            return .fail(
                Cause.restarting.rawValue,
                "\(name) is restarting: it exited with \(state.exitCode) and has restarted \(container.restartCount) times",
                evidence: evidence)
        case "exited", "dead":
            if state.oomKilled {
                return .fail(
                    Cause.oomKilled.rawValue, "\(name) was killed by the kernel for exceeding its memory limit",
                    evidence: evidence)
            }
            return .fail(Cause.exited.rawValue, "\(name) exited with code \(state.exitCode)", evidence: evidence)
        case "created":
            return .fail(Cause.notStarted.rawValue, "\(name) was created but never started", evidence: evidence)
        case "paused":
            return .fail(Cause.paused.rawValue, "\(name) is paused", evidence: evidence)
        case "running":
            // A crash loop spends most of its time "running" between restarts: a container the restart policy
            // restarted within the last minute is not running in any sense that helps, whatever the instant says.
            if container.restartCount > 0, let started = state.startedAt.flatMap(ContainerInfo.parseDockerDate),
                Date().timeIntervalSince(started) < Self.flappingWindow
            {
                let ago = Int(max(0, Date().timeIntervalSince(started)))
                return .fail(
                    state.oomKilled ? "oom-killed" : "restarting",
                    "\(name) is crash-looping: restarted \(container.restartCount) times, the last \(ago)s ago (last exit code \(state.exitCode))",
                    evidence: evidence)
            }
            let health = state.health?.status
            switch (expect, health) {
            case (.running, _):
                return .pass("\(name) is running" + (health.map { " (\($0))" } ?? ""), evidence: evidence)
            case (.healthy, "healthy"?):
                return .pass("\(name) is running and healthy", evidence: evidence)
            case (.healthy, "unhealthy"?):
                let streak = state.health?.failingStreak ?? 0
                return .fail(
                    Cause.unhealthy.rawValue, "\(name) is unhealthy: its healthcheck failed \(streak) times in a row",
                    evidence: evidence)
            case (.healthy, "starting"?):
                return .fail(
                    Cause.starting.rawValue, "\(name) is running but its healthcheck has not passed yet",
                    evidence: evidence)
            case (.healthy, let other?):
                return .fail(Cause.unhealthy.rawValue, "\(name) reports health '\(other)'", evidence: evidence)
            case (.healthy, nil):
                return .error(
                    Cause.noHealthcheck.rawValue,
                    "\(name) is running but has no healthcheck, so it cannot be healthy; use expect: running",
                    evidence: evidence)
            }
        default:
            return .fail(Cause.exited.rawValue, "\(name) is \(state.status)", evidence: evidence)
        }
    }

    /// State, health, last healthcheck output, restarts, exit code and OOM kill, redacted.
    static func evidence(_ container: ContainerInfo) -> [String] {
        let state = container.state
        var lines = ["container: \(container.name) (\(container.id.prefix(12)))", "state: \(state.status)"]
        if let health = state.health {
            lines.append("health: \(health.status) (failing streak \(health.failingStreak))")
            if let last = health.log.last {
                let output = Redactor.standard.redact(last.output.trimmingWhitespace()).truncated(to: 2000)
                lines.append("last healthcheck: exit \(last.exitCode)" + (output.isEmpty ? "" : ": \(output)"))
            }
        }
        lines.append("restarts: \(container.restartCount)")
        if state.status != "running" { lines.append("exit code: \(state.exitCode)") }
        if state.oomKilled { lines.append("oom-killed: true") }
        if let error = state.error, !error.isEmpty { lines.append("engine error: \(Redactor.standard.redact(error))") }
        return lines
    }
}

extension ProbeKind {
    /// `compose-service`: a service's container is running, or running and healthy.
    public static let composeService = ProbeKind(
        name: "compose-service", required: ["service"], optional: ComposeProject.argumentNames.union(["expect"])
    ) { arguments throws(ProbeArgumentError) in try ComposeServiceProbe(arguments) }
}
