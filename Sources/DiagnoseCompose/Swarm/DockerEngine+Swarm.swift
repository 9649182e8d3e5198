import DiagnosePlatform
import Foundation

extension DockerEngine {
    /// The IDs of the stack's task containers on this node, running or not (`GET /containers/json?all=1` filtered by
    /// `com.docker.stack.namespace`).
    package func stackContainerIDs(
        namespace: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<[String], ComposeError> {
        listIDs(label: "com.docker.stack.namespace=\(namespace)", timeout: timeout, cancellation: cancellation)
    }

    /// The stack's services and their tasks (`GET /services`, then `GET /tasks` for those services), or nil when
    /// the engine is no Swarm manager (HTTP 503): then there is no stack to read here.
    package func stack(
        namespace: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<StackState?, ComposeError> {
        let filters = #"{"label":["com.docker.stack.namespace=\#(Self.jsonEscaped(namespace))"]}"#
        let listed = send(
            "GET", "/services", query: [("filters", filters)], timeout: timeout, readLimit: 16 << 20,
            cancellation: cancellation)
        let objects: [[String: Any]]
        switch listed {
        case .failure(.dockerFailed(_, let message)) where message.hasPrefix("HTTP 503"): return .success(nil)
        case .failure(let error): return .failure(error)
        case .success(let response):
            guard let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
                return .failure(.dockerFailed(command: "GET /services", message: "the answer is not a JSON list"))
            }
            objects = list
        }
        let ids = StackService.parse(services: objects, namespace: namespace).map {
            #""\#(Self.jsonEscaped($0.id))""#
        }
        guard !ids.isEmpty else { return .success(StackState(namespace: namespace, services: [])) }
        let tasks = send(
            "GET", "/tasks", query: [("filters", #"{"service":[\#(ids.joined(separator: ","))]}"#)],
            timeout: timeout, readLimit: 16 << 20, cancellation: cancellation)
        return tasks.flatMap { response in
            guard let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
                return .failure(.dockerFailed(command: "GET /tasks", message: "the answer is not a JSON list"))
            }
            return .success(StackState.assemble(namespace: namespace, services: objects, tasks: list))
        }
    }

    /// The service's log across its tasks, both streams in their order (`GET /services/{id}/logs`).
    package func serviceLogs(
        _ id: String, since: String?, tail: Int?, timestamps: Bool, limit: Int, timeout: Duration,
        cancellation: [CancellationFlag]
    ) -> Result<EngineStream, ComposeError> {
        var query = [("stdout", "1"), ("stderr", "1"), ("timestamps", timestamps ? "1" : "0")]
        if let since { query.append(("since", since)) }
        if let tail { query.append(("tail", String(tail))) }
        return send(
            "GET", "/services/\(Self.pathPart(id))/logs", query: query, timeout: timeout, readLimit: limit,
            cancellation: cancellation
        ).map { EngineStream($0.body, raw: false) }
    }
}
