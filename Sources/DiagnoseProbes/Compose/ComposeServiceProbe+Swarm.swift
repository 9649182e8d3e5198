import DiagnoseCompose
import DiagnosePlatform
import Foundation

extension ComposeServiceProbe {
    /// Judges a stack's service from what Swarm says of it before its containers: scaled to zero, a task the
    /// scheduler cannot place, an image the node does not have, a task rejected, tasks that keep failing, a task
    /// not started yet. Nil when its current tasks run and none failed lately: then its containers are judged as
    /// compose's are (health, pause, OOM). `containers` are the current tasks' containers, `history` every container
    /// of the service on this node (an ended task's says whether the kernel killed it).
    func judge(
        stackService found: StackService, containers: [ContainerInfo], history: [ContainerInfo], now: Date = Date()
    ) -> Observation? {
        let name = "service '\(service)' (\(found.name))"
        let evidence = Self.evidence(found)
        let desired = found.desiredReplicas ?? max(1, found.currentTasks.count)
        if found.desiredReplicas == 0 {
            return .fail(
                Cause.scaledToZero.rawValue,
                "\(name) is scaled to 0 replicas: Swarm runs no task of it; docker service scale \(found.name)=1 starts one",
                evidence: evidence)
        }
        let running = found.runningTasks
        let recentFailures = found.failedTasks.filter { task in
            guard let at = task.timestamp.flatMap(ContainerInfo.parseDockerDate) else { return true }
            return now.timeIntervalSince(at) < Self.flappingWindow
        }
        if running.count >= desired, recentFailures.isEmpty {
            if containers.isEmpty, expect == .healthy {
                return .error(
                    Cause.notLocal.rawValue,
                    "\(name) runs on another node: its health is its container's, which only that node's engine shows; run diagnose there",
                    evidence: evidence)
            }
            if containers.isEmpty {
                return .pass("\(name) runs \(running.count)/\(desired) tasks, on another node", evidence: evidence)
            }
            return nil
        }
        let waiting = found.currentTasks.filter { $0.state != "running" }
        if let pending = waiting.first(where: { $0.error.contains("no suitable node") }) {
            return .fail(
                Cause.unplaceable.rawValue,
                "\(name) cannot be placed: \(Self.shown(pending.error)) (\(running.count)/\(desired) tasks run)",
                evidence: evidence)
        }
        let attempts = waiting + recentFailures
        if attempts.contains(where: { Self.isMissingImage($0.error) }) {
            return .fail(
                Cause.imageMissing.rawValue,
                "\(name) cannot start: the node has no image '\(Self.shown(found.image))' (\(running.count)/\(desired) tasks run)",
                evidence: evidence)
        }
        if let rejected = attempts.first(where: { $0.state == "rejected" }) {
            return .fail(
                Cause.rejected.rawValue,
                "\(name)'s task was rejected by the node: \(Self.shown(rejected.error.isEmpty ? rejected.message : rejected.error))",
                evidence: evidence)
        }
        if let last = recentFailures.first {
            let ago = last.timestamp.flatMap(ContainerInfo.parseDockerDate).map {
                " \(Int(max(0, now.timeIntervalSince($0))))s ago"
            }
            let oom = last.exitCode == 137 && history.contains { $0.id == last.containerID && $0.state.oomKilled }
            return .fail(
                (oom ? Cause.oomKilled : .restarting).rawValue,
                "\(name) keeps failing: \(recentFailures.count) task(s) failed in the last minute, the last\(ago ?? "") with '\(Self.shown(last.error))'; Swarm starts a new task each time (\(running.count)/\(desired) run)",
                evidence: evidence)
        }
        if let first = waiting.first {
            return .fail(
                Cause.notStarted.rawValue,
                "\(name)'s task is \(first.state) (\(Self.shown(first.error.isEmpty ? first.message : first.error))), not running yet",
                evidence: evidence)
        }
        return .fail(
            Cause.notCreated.rawValue, "\(name) has no task although it asks for \(desired) replica(s)",
            evidence: evidence)
    }

    /// Whether a task error says the node lacks the image.
    static func isMissingImage(_ error: String) -> Bool {
        let lowered = error.lowercased()
        return lowered.contains("no such image") || (lowered.contains("image") && lowered.contains("not found"))
    }

    /// An engine string for a sentence: redacted, one line, cut.
    static func shown(_ text: String) -> String {
        Redactor.standard.redact(text).firstLine.truncated(to: 300)
    }

    /// The service, its replicas and constraints, and its last tasks, newest first.
    static func evidence(_ service: StackService) -> [String] {
        let mode =
            service.desiredReplicas.map { "replicated, \(service.runningTasks.count)/\($0) running" }
            ?? "global, \(service.runningTasks.count) running"
        var lines = ["swarm service: \(service.name) (\(mode))", "image: \(shown(service.image))"]
        if !service.constraints.isEmpty {
            lines.append("constraints: \(shown(service.constraints.joined(separator: ", ")))")
        }
        for task in service.tasks.prefix(5) {
            let slot = task.slot.map { ".\($0)" } ?? ""
            let detail = [task.message, task.error].filter { !$0.isEmpty }.map(shown).joined(separator: "; ")
            let exit = task.exitCode.map { ", exit \($0)" } ?? ""
            let at = task.timestamp.flatMap(shownDate).map { " at \($0)" } ?? ""
            lines.append(
                "task \(service.name)\(slot) (\(task.id.prefix(12))): desired \(task.desiredState), \(task.state)\(at)\(exit)"
                    + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return lines
    }
}
