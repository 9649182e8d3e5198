import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Checks that a compose service's container runs, or runs and is healthy, from the project's shared state.
///
/// Causes: `not-created`, `not-started`, `exited`, `stopped`, `oom-killed`, `restarting`, `paused`, `dead`,
/// `removing`, `unhealthy`, `starting`, and for a Swarm stack `scaled-to-zero`, `unplaceable`, `image-missing`,
/// `rejected` (fail); `no-project`, `no-healthcheck`, `not-local`, `docker-missing`, `engine-unreachable`,
/// `docker-error`, `cancelled` (error).
public struct ComposeServiceProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The engine failed to remove the container and will not start it again.
        case dead
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
        /// The container is being removed.
        case removing
        /// The container is restarting, or crash-looping.
        case restarting
        /// The healthcheck has not passed yet.
        case starting
        /// The container was stopped by hand: its restart policy would have restarted it after any other exit.
        case stopped
        /// The healthcheck fails.
        case unhealthy
        /// A stack's service is scaled to 0 replicas.
        case scaledToZero = "scaled-to-zero"
        /// The Swarm scheduler finds no node for its task (constraints, resources, a host port in use).
        case unplaceable
        /// The node lacks the image its task runs.
        case imageMissing = "image-missing"
        /// The node rejected its task for another reason.
        case rejected
        /// Its task runs on another Swarm node, whose engine alone shows its container (error).
        case notLocal = "not-local"
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
        if let stack = state.stack, !stack.services.isEmpty {
            guard let found = stack.service(service) else {
                let known = stack.services.map(\.shortName)
                return .fail(
                    Cause.notCreated.rawValue, "stack '\(stack.namespace)' has no service '\(service)'",
                    evidence: [
                        "stack '\(stack.namespace)' has services: \(known.joined(separator: ", "))"
                            + didYouMean(service, among: known)
                    ])
            }
            let history = state.containers.filter { $0.service == service }
            if let verdict = judge(stackService: found, containers: containers, history: history) { return verdict }
        }
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
        case "exited":
            if state.oomKilled {
                return .fail(
                    Cause.oomKilled.rawValue, "\(name) was killed by the kernel for exceeding its memory limit",
                    evidence: evidence)
            }
            if let policy = Self.policyOverruledByHand(container) {
                return .fail(
                    Cause.stopped.rawValue,
                    "\(name) was stopped (exit \(state.exitCode)): its restart policy '\(policy)' restarts it after any other exit; docker compose start \(service) starts it",
                    evidence: evidence)
            }
            let exit = Self.exitMeaning(state.exitCode)
            let gaveUp = Self.retriesExhausted(container).map { "; \($0)" } ?? ""
            return .fail(
                Cause.exited.rawValue,
                exit.crashed
                    ? "\(name) crashed with exit \(state.exitCode)\(exit.signal)\(gaveUp)"
                    : "\(name) exited \(state.exitCode): \(exit.text)\(gaveUp)",
                evidence: evidence)
        case "dead":
            return .fail(
                Cause.dead.rawValue,
                "\(name) is dead: the engine failed to remove it and will not start it again; remove it (docker rm -f) and recreate it (docker compose up -d)",
                evidence: evidence)
        case "removing":
            return .fail(
                Cause.removing.rawValue, "\(name) is being removed (docker rm or docker compose down is under way)",
                evidence: evidence)
        case "created":
            return .fail(Cause.notStarted.rawValue, "\(name) was created but never started", evidence: evidence)
        case "paused":
            // Docker reports a paused container as Running; its processes are frozen and answer nothing.
            return .fail(
                Cause.paused.rawValue,
                "\(name) is paused: its processes are frozen until docker compose unpause \(service) (up -d and restart do not resume it)",
                evidence: evidence)
        case "running":
            // A crash loop spends most of its time "running" between restarts: a container the restart policy
            // restarted within the last minute is not running in any sense that helps, whatever the instant says.
            if container.restartCount > 0, let started = state.startedAt.flatMap(ContainerInfo.parseDockerDate),
                Date().timeIntervalSince(started) < Self.flappingWindow
            {
                let ago = Int(max(0, Date().timeIntervalSince(started)))
                return .fail(
                    (state.oomKilled ? Cause.oomKilled : .restarting).rawValue,
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

    /// What an exit code says about how the process ended.
    static func exitMeaning(_ code: Int) -> (text: String, crashed: Bool, signal: String) {
        switch code {
        case 0: return ("stopped cleanly (docker compose stop) or finished", false, "")
        case 143: return ("stopped by SIGTERM (docker compose stop) or terminated", false, "")
        case 137: return ("killed (SIGKILL: docker kill, or stop after the grace period)", false, "")
        case 129...159: return ("crashed (signal \(code - 128))", true, " (signal \(code - 128))")
        default: return ("crashed", true, "")
        }
    }

    /// The restart policy, when it would have restarted this exited container had it not been stopped by hand
    /// (`docker stop`, `docker compose stop`): `always` and `unless-stopped` restart after any exit, so an exited
    /// container under them, not restarting and with no engine error, was stopped on purpose.
    static func policyOverruledByHand(_ container: ContainerInfo) -> String? {
        guard let policy = container.restartPolicy?.name, ["always", "unless-stopped"].contains(policy),
            !container.state.restarting, (container.state.error ?? "").isEmpty
        else { return nil }
        return policy
    }

    /// How an `on-failure:N` policy gave up, when it did.
    static func retriesExhausted(_ container: ContainerInfo) -> String? {
        guard let policy = container.restartPolicy, policy.name == "on-failure", policy.maximumRetryCount > 0,
            container.restartCount >= policy.maximumRetryCount, container.state.exitCode != 0
        else { return nil }
        return
            "its restart policy on-failure:\(policy.maximumRetryCount) gave up after \(container.restartCount) restarts"
    }

    /// The restart policy as compose writes it.
    static func policyDescription(_ policy: ContainerInfo.RestartPolicy?) -> String {
        guard let policy, !policy.name.isEmpty else { return "no" }
        return policy.name == "on-failure" && policy.maximumRetryCount > 0
            ? "on-failure:\(policy.maximumRetryCount)" : policy.name
    }

    /// State, health, last healthcheck output, restarts, restart policy, exit, OOM kill, times and the engine's
    /// error, redacted.
    static func evidence(_ container: ContainerInfo) -> [String] {
        let state = container.state
        var lines = ["container: \(container.name) (\(container.id.prefix(12)))", "state: \(state.status)"]
        if let health = state.health {
            if state.status == "paused" {
                // The engine stops the checks of a paused container and marks it unhealthy whatever they said;
                // the last check run before the pause is the health it had.
                let frozen = health.log.last.map { $0.exitCode == 0 ? "healthy" : "unhealthy" } ?? health.status
                lines.append("health: frozen at \(frozen) while paused (the engine reports '\(health.status)')")
            } else {
                lines.append("health: \(health.status) (failing streak \(health.failingStreak))")
            }
            if let last = health.log.last {
                let output = Redactor.standard.redact(last.output.trimmingWhitespace()).truncated(to: 2000)
                lines.append("last healthcheck: exit \(last.exitCode)" + (output.isEmpty ? "" : ": \(output)"))
            }
        }
        lines.append("restarts: \(container.restartCount)")
        lines.append("restart policy: \(policyDescription(container.restartPolicy))")
        if ["exited", "dead", "restarting"].contains(state.status)
            || (state.status == "created" && state.exitCode != 0)
        {
            let exit = exitMeaning(state.exitCode)
            lines.append("exit \(state.exitCode): \(state.oomKilled ? "killed by the kernel's OOM killer" : exit.text)")
        }
        if state.oomKilled { lines.append("oom-killed: true") }
        if let started = shownDate(state.startedAt) { lines.append("started at: \(started)") }
        if state.status != "running", state.status != "paused", let finished = shownDate(state.finishedAt) {
            lines.append("finished at: \(finished)")
        }
        if let error = state.error, !error.isEmpty {
            lines.append("engine error: \(Redactor.standard.redact(error).truncated(to: 500))")
        }
        return lines
    }

    /// A Docker timestamp to the second, or nil for Docker's zero time (never happened).
    static func shownDate(_ text: String?) -> String? {
        guard let text, !text.hasPrefix("0001-"), let date = ContainerInfo.parseDockerDate(text) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension ProbeKind {
    /// `compose-service`: a service's container is running, or running and healthy.
    public static let composeService = ProbeKind(
        name: "compose-service", required: ["service"], optional: ComposeProject.argumentNames.union(["expect"])
    ) { arguments throws(ProbeArgumentError) in try ComposeServiceProbe(arguments) }
}
