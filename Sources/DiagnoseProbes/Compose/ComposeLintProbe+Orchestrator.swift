import DiagnoseCompose
import DiagnosePlatform

extension ComposeLintProbe {
    /// `check: orchestrator`: passes when the stack runs under compose, fails `swarm` when it is a Swarm stack.
    /// `orchestrator` says which (`compose`, `swarm`); `auto` or empty asks the engine: a project with no compose
    /// container but a stack of its name (`docker stack deploy`) is a stack.
    func whichOrchestrator(_ context: ProbeContext) async -> Observation {
        switch orchestrator {
        case "compose":
            return .pass("the stack runs under docker compose (orchestrator: compose)")
        case "swarm":
            return .fail(Cause.swarm.rawValue, "the stack is deployed to Swarm (orchestrator: swarm)")
        case "", "auto":
            break
        default:
            let shown = Redactor.standard.redact(orchestrator).firstLine.truncated(to: 40)
            return .error(Cause.invalid.rawValue, "orchestrator '\(shown)' is none of auto, compose or swarm")
        }
        let project = context.compose.project(ComposeProject.Selector(file: file.isEmpty ? nil : file))
        switch await context.compose.state(of: project.name, cancellation: context.cancellation) {
        case .failure(let error):
            return .error(
                error.cause, "whether '\(project.name)' runs under compose or Swarm could not be read: \(error)",
                evidence: ["the compose rules apply; pass --orchestrator swarm for a stack"])
        case .success(let state):
            if let stack = state.stack, !stack.services.isEmpty {
                return .fail(
                    Cause.swarm.rawValue,
                    "'\(project.name)' is a Swarm stack: \(stack.services.count) services carry com.docker.stack.namespace=\(stack.namespace)",
                    evidence: stack.services.map { "swarm service: \($0.name)" })
            }
            return .pass(
                state.containers.isEmpty
                    ? "no stack named '\(project.name)' was found, so the compose rules apply"
                    : "'\(project.name)' runs under docker compose (\(state.containers.count) containers)")
        }
    }
}
