import DiagnosePlatform

/// Why the compose adapter could not answer; each maps to an `error` observation with a stable cause.
public enum ComposeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `docker` CLI is not on PATH.
    case dockerMissing
    /// Neither the `docker compose` plugin nor `docker-compose` was found.
    case composeMissing
    /// The engine did not answer: no socket, no permission, or no reply in time.
    case engineUnreachable(String)
    /// A docker command failed for another reason.
    case dockerFailed(command: String, message: String)
    /// The engine is not on this machine, and what was asked needs it here (entering a container's network).
    case remoteEngine(host: String, need: String)
    /// The service has no container in the project.
    case notCreated(service: String, project: String)
    /// The service's container exists but does not run.
    case notRunning(service: String, container: String, status: String)
    /// The run was cancelled.
    case cancelled

    /// The observation's cause.
    public var cause: String {
        switch self {
        case .dockerMissing: "docker-missing"
        case .composeMissing: "compose-missing"
        case .engineUnreachable: "engine-unreachable"
        case .dockerFailed: "docker-error"
        case .remoteEngine: "remote-engine"
        case .notCreated: "not-created"
        case .notRunning: "container-not-running"
        case .cancelled: "cancelled"
        }
    }

    public var description: String {
        switch self {
        case .dockerMissing:
            "the docker CLI was not found on PATH; install it or run diagnose where it is"
        case .composeMissing:
            "neither the 'docker compose' plugin nor 'docker-compose' was found; install one of them"
        case .engineUnreachable(let message):
            "the Docker engine did not answer (\(message)); start it or check DOCKER_HOST and socket permissions"
        case .dockerFailed(let command, let message):
            "\(command) failed: \(message)"
        case .remoteEngine(let host, let need):
            "the engine at \(host) is not known to be on this machine; \(need)"
        case .notCreated(let service, let project):
            "service '\(service)' has no container in project '\(project)'; was it started with 'up'?"
        case .notRunning(let service, let container, let status):
            "service '\(service)' is not running (container \(container) is \(status))"
        case .cancelled:
            "the run was cancelled"
        }
    }
}
