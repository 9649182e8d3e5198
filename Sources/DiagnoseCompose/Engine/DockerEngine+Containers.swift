import DiagnosePlatform
import Foundation

extension DockerEngine {
    /// The IDs of the project's containers, running or not (`GET /containers/json?all=1` filtered by the compose
    /// project label).
    package func containerIDs(
        project: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<[String], ComposeError> {
        listIDs(label: "com.docker.compose.project=\(project)", timeout: timeout, cancellation: cancellation)
    }

    /// The IDs of the containers carrying `label` (`NAME=value`), running or not.
    package func listIDs(
        label: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<[String], ComposeError> {
        let filters = #"{"label":["\#(Self.jsonEscaped(label))"]}"#
        return send(
            "GET", "/containers/json", query: [("all", "1"), ("filters", filters)], timeout: timeout,
            readLimit: 16 << 20, cancellation: cancellation
        ).flatMap { response in
            guard let list = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
                return .failure(
                    .dockerFailed(command: "GET /containers/json", message: "the answer is not a JSON list"))
            }
            return .success(list.compactMap { $0["Id"] as? String })
        }
    }

    /// The project's containers, inspected one by one; a container removed between the list and its inspection
    /// (HTTP 404) is left out, as `docker inspect` leaves it out.
    package func projectState(
        project: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<ProjectState, ComposeError> {
        containerIDs(project: project, timeout: timeout, cancellation: cancellation).flatMap { ids in
            projectState(ids: ids, project: project, timeout: timeout, cancellation: cancellation)
        }
    }

    /// The listed containers, inspected one by one.
    package func projectState(
        ids: [String], project: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<ProjectState, ComposeError> {
        var containers: [ContainerInfo] = []
        for id in ids {
            switch inspect(id, timeout: timeout, cancellation: cancellation) {
            case .success(let container): containers.append(container)
            case .failure(.dockerFailed(_, let message)) where message.hasPrefix("HTTP 404"): continue
            case .failure(let error): return .failure(error)
            }
        }
        return .success(ProjectState(project: project, containers: containers))
    }

    /// `GET /containers/{id}/json`, the object `docker inspect` prints.
    package func inspect(
        _ id: String, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<ContainerInfo, ComposeError> {
        send(
            "GET", "/containers/\(Self.pathPart(id))/json", timeout: timeout, readLimit: 4 << 20,
            cancellation: cancellation
        ).flatMap { response in
            guard let container = try? JSONDecoder().decode(ContainerInfo.self, from: Data(response.body)) else {
                return .failure(.dockerFailed(command: "GET /containers/json", message: "the answer could not be read"))
            }
            return .success(container)
        }
    }

    /// The container's log, both streams in their order, with timestamps when asked (`GET /containers/{id}/logs`). `tty`
    /// says the container has a TTY, whose log is raw rather than framed. The read stops at `limit` bytes, then
    /// keeps the end of what was read.
    package func logs(
        _ id: String, tty: Bool, since: String?, tail: Int?, timestamps: Bool = true, limit: Int, timeout: Duration,
        cancellation: [CancellationFlag]
    ) -> Result<EngineStream, ComposeError> {
        var query = [("stdout", "1"), ("stderr", "1"), ("timestamps", timestamps ? "1" : "0")]
        if let since { query.append(("since", since)) }
        if let tail { query.append(("tail", String(tail))) }
        return send(
            "GET", "/containers/\(Self.pathPart(id))/logs", query: query, timeout: timeout, readLimit: limit,
            cancellation: cancellation
        ).map { EngineStream($0.body, raw: tty) }
    }

    /// What an exec ended with.
    package struct ExecResult: Sendable, Hashable {
        /// The exit code, nil when the engine did not report one.
        package var exitCode: Int?
        /// Its two streams.
        package var output: EngineStream
    }

    /// Runs `command` in the container and waits for it (`POST /containers/{id}/exec`, `POST /exec/{id}/start`
    /// attached, then `GET /exec/{id}/json` for the exit code). A timeout or cancellation ends the wait and closes
    /// the connection; the engine does not kill an exec's process when its client goes, so the command may run on.
    package func exec(
        _ id: String, command: [String], limit: Int, timeout: Duration, cancellation: [CancellationFlag]
    ) -> Result<ExecResult, ComposeError> {
        let create: [String: Any] = ["AttachStdout": true, "AttachStderr": true, "Tty": false, "Cmd": command]
        guard let createBody = try? JSONSerialization.data(withJSONObject: create) else {
            return .failure(
                .dockerFailed(command: "POST /containers/exec", message: "the command could not be encoded"))
        }
        let created = send(
            "POST", "/containers/\(Self.pathPart(id))/exec", body: Array(createBody), timeout: timeout,
            readLimit: 64 << 10, cancellation: cancellation)
        return created.flatMap { response in
            guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let execID = object["Id"] as? String
            else {
                return .failure(.dockerFailed(command: "POST /containers/exec", message: "no exec ID in the answer"))
            }
            let started = send(
                "POST", "/exec/\(Self.pathPart(execID))/start", body: Array(#"{"Detach":false,"Tty":false}"#.utf8),
                timeout: timeout, readLimit: limit, cancellation: cancellation)
            // The engine answered the create; a start that outlives the timeout is the command still running
            // (a name lookup inside waiting out its resolver, say), not an engine that does not answer.
            if case .failure(.engineUnreachable(let message)) = started, message.contains("had no answer within") {
                return .success(ExecResult(exitCode: nil, output: EngineStream([], raw: false)))
            }
            return started.flatMap { output in
                send(
                    "GET", "/exec/\(Self.pathPart(execID))/json", timeout: timeout, readLimit: 64 << 10,
                    cancellation: cancellation
                ).map { state in
                    let details = try? JSONSerialization.jsonObject(with: Data(state.body)) as? [String: Any]
                    let running = details?["Running"] as? Bool ?? false
                    return ExecResult(
                        exitCode: running ? nil : details?["ExitCode"] as? Int,
                        output: EngineStream(output.body, raw: false))
                }
            }
        }
    }

    /// A container or exec ID as one path segment.
    static func pathPart(_ id: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    /// `text` inside a JSON string.
    static func jsonEscaped(_ text: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [text]),
            let list = String(data: data, encoding: .utf8)
        else { return "" }
        return String(list.dropFirst(2).dropLast(2))
    }
}
