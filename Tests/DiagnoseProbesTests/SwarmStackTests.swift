import DiagnoseCompose
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseProbes

/// A stack's services, tasks and task containers as a real single-node Swarm gave them (`GET /services`,
/// `GET /tasks`, `GET /containers/{id}/json` on the Swarm lab's second engine, in each fault), read the way the
/// adapter reads them and judged by `compose-service`. The lab's scenarios (`lab/scenarios`, Swarm pass) run the
/// same on the live stack; these pin each state's reading.
@Suite struct SwarmStackTests {
    /// One captured state: the stack, the task containers, and when it was captured.
    struct Captured {
        var state: ProjectState
        var service: String
        var capturedAt: Date
    }

    static func load(_ name: String) throws -> Captured {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("swarm/\(name).json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let services = try #require(object["services"] as? [[String: Any]])
        let tasks = try #require(object["tasks"] as? [[String: Any]])
        let stack = StackState.assemble(namespace: "diagnose-lab", services: services, tasks: tasks)
        let containerData = try JSONSerialization.data(withJSONObject: object["containers"] ?? [])
        let containers = try JSONDecoder().decode([ContainerInfo].self, from: containerData)
        let newest = stack.services.flatMap(\.tasks).compactMap { $0.timestamp.flatMap(ContainerInfo.parseDockerDate) }
            .max()
        return Captured(
            state: ProjectState(
                project: "diagnose-lab", containers: containers,
                stack: stack),
            service: try #require(object["service"] as? String), capturedAt: try #require(newest).addingTimeInterval(2))
    }

    static func judge(_ captured: Captured, expect: String = "running", at now: Date? = nil) throws -> Observation? {
        let probe = try ComposeServiceProbe(
            ProbeArguments(["service": .scalar(captured.service), "expect": .scalar(expect)]))
        let found = try #require(captured.state.stack?.service(captured.service))
        return probe.judge(
            stackService: found, containers: captured.state.containers(of: captured.service),
            history: captured.state.containers.filter { $0.service == captured.service },
            now: now ?? captured.capturedAt)
    }

    @Test func aHealthyStackReadsAsServicesWithTheirRunningTaskAndItsContainer() throws {
        let captured = try Self.load("healthy")
        let stack = try #require(captured.state.stack)
        #expect(stack.services.map(\.shortName) == ["backend", "frontend", "jaeger", "prometheus", "redis", "worker"])
        let worker = try #require(stack.service("worker"))
        #expect(worker.name == "diagnose-lab_worker")
        #expect(worker.desiredReplicas == 1)
        #expect(worker.runningTasks.count == 1)
        let container = try #require(captured.state.containers(of: "worker").first)
        #expect(container.service == "worker")
        #expect(container.number == 1)
        #expect(container.taskID == worker.runningTasks.first?.id)
        // Running and no failure lately: the container itself is judged (health, pause, OOM), as compose's are.
        #expect(try Self.judge(captured) == nil)
        #expect(captured.state.services.contains("redis"))
    }

    @Test func anUnplaceableTaskSaysWhatTheSchedulerSaidAndIgnoresTheEndedTasksContainer() throws {
        let captured = try Self.load("worker-unplaceable")
        // The old task's container is still on the node; it is history, not the service's container.
        #expect(captured.state.containers(of: "worker").isEmpty)
        #expect(captured.state.latestContainer(of: "worker") != nil)
        let observation = try #require(try Self.judge(captured))
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "unplaceable")
        #expect(observation.summary.contains("no suitable node (scheduling constraints not satisfied on 1 node)"))
        #expect(observation.evidence.contains("constraints: node.labels.diagnose-lab-zone==nowhere"))
        #expect(observation.evidence.contains("swarm service: diagnose-lab_worker (replicated, 0/1 running)"))
    }

    @Test func aServiceScaledToZeroIsNamedSoWithTheCommandThatScalesItBack() throws {
        let observation = try #require(try Self.judge(try Self.load("worker-scaled-zero")))
        #expect(observation.cause == "scaled-to-zero")
        #expect(observation.summary.contains("docker service scale diagnose-lab_worker=1"))
    }

    @Test func tasksThatKeepFailingAreACrashLoopOnlyWhileTheFailuresAreRecent() throws {
        let captured = try Self.load("worker-failing")
        let observation = try #require(try Self.judge(captured))
        #expect(observation.cause == "restarting")
        #expect(observation.summary.contains("task: non-zero exit (2)"))
        #expect(observation.evidence.contains { $0.contains("failed") && $0.contains("exit 2") })
        // Ten minutes on, the same failures are old: the task waiting to start is what is left to say.
        let later = try #require(try Self.judge(captured, at: captured.capturedAt.addingTimeInterval(600)))
        #expect(later.cause == "not-started")
        #expect(later.summary.contains("is ready"))
    }

    @Test func aTaskWhoseEndedContainerTheKernelKilledIsOOMKilledNotACrash() throws {
        // The same crash loop, its last failed task's container (history on the node) killed at its memory limit.
        var captured = try Self.load("worker-failing")
        var stack = try #require(captured.state.stack)
        let index = try #require(stack.services.firstIndex { $0.shortName == "worker" })
        let last = try #require(stack.services[index].failedTasks.first)
        let taskIndex = try #require(stack.services[index].tasks.firstIndex { $0.id == last.id })
        stack.services[index].tasks[taskIndex].exitCode = 137
        captured.state.stack = stack
        var killed = try #require(captured.state.containers.first)
        let plainCrash = try #require(try Self.judge(captured))
        #expect(plainCrash.cause == "restarting")
        killed.id = try #require(last.containerID)
        killed.state.oomKilled = true
        captured.state.containers = [killed]
        #expect(try Self.judge(captured)?.cause == "oom-killed")
    }

    @Test func aRejectedTaskForAMissingImageIsImageMissingForBothExpectations() throws {
        let captured = try Self.load("backend-image-missing")
        for expect in ["running", "healthy"] {
            let observation = try #require(try Self.judge(captured, expect: expect))
            #expect(observation.cause == "image-missing")
            #expect(observation.summary.contains("diagnose-lab-backend:missing"))
            #expect(observation.evidence.contains { $0.contains("rejected") && $0.contains("No such image") })
        }
    }

    @Test func theTasksRejectedBeforeTheNewestOneWasAssignedStillSayTheImageIsMissing() throws {
        // Swarm makes a new task every restart delay; read while the newest is only assigned, the earlier ones of
        // the same spec still say why. The service's UpdatedAt moved after them (the update paused on the first
        // rejection), so only the spec tells which tasks are the current deployment's.
        let captured = try Self.load("backend-image-missing-assigned")
        let found = try #require(captured.state.stack?.service("backend"))
        let updated = try #require(found.updatedAt.flatMap(ContainerInfo.parseDockerDate))
        #expect(
            found.failedTasks.contains { ($0.createdAt.flatMap(ContainerInfo.parseDockerDate) ?? updated) < updated })
        let observation = try #require(try Self.judge(captured, expect: "healthy"))
        #expect(observation.cause == "image-missing")
        #expect(found.deployedAt.map { $0 < (found.updatedAt ?? "") } == true)
    }

    @Test func noEvidenceCarriesTheSecretsOfTheTasksSpec() throws {
        // The task specs hold the stack's environment (the lab's fake GEMINI_API_KEY); evidence never shows specs.
        for name in ["healthy", "worker-unplaceable", "worker-scaled-zero", "worker-failing", "backend-image-missing"] {
            let captured = try Self.load(name)
            let observation = try Self.judge(captured)
            let shown = ([observation?.summary ?? ""] + (observation?.evidence ?? [])).joined(separator: "\n")
            #expect(!shown.contains("lab-fake-key-DO-NOT-PRINT-7f3a9c"), "\(name)")
        }
    }

    @Test func theOrchestratorComesFromTheEnvironmentAndABadOneIsRefusedWithTheChoices() throws {
        #expect(try Orchestrator.from(environment: [:]).get() == .auto)
        #expect(try Orchestrator.from(environment: ["DIAGNOSE_ORCHESTRATOR": "Swarm"]).get() == .swarm)
        guard case .failure(let error) = Orchestrator.from(environment: ["DIAGNOSE_ORCHESTRATOR": "k8s"]) else {
            Issue.record("k8s was accepted")
            return
        }
        #expect(error.description.contains("use auto, compose or swarm"))
    }
}
