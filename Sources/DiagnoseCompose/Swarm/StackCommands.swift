import DiagnosePlatform
import Foundation

/// The runbooks' next commands are written for compose (`docker compose logs --tail 50 worker`). On a stack deployed
/// with `docker stack deploy` they do not work; `translate` rewrites each compose command to the docker command that
/// does the same for the stack, and names its services in full (`STACK_worker`, the form the Swarm-only
/// diagnoses use, becomes `diagnose-lab_worker`). Anything else is left as written.
public enum StackCommands {
    /// A service name as compose allows it.
    static let service = "[A-Za-z0-9][A-Za-z0-9_.-]*"

    /// `command` for the stack `stack`.
    public static func translate(_ command: String, stack: String) -> String {
        let name = shellQuoted(stack)
        func task(_ service: String, all: Bool = false) -> String {
            "docker ps -\(all ? "a" : "")q --filter label=com.docker.swarm.service.name=\(shellQuoted(stack + "_" + service))"
        }
        func full(_ service: String) -> String { shellQuoted(stack + "_" + service) }
        let rules: [(String, ([String]) -> String)] = [
            (#"docker compose ps -(a?)q (\#(service))"#, { task($0[2], all: !$0[1].isEmpty) }),
            (#"docker compose exec (?:-T )?(\#(service))"#, { "docker exec $(\(task($0[1])) | head -n 1)" }),
            (#"docker compose unpause (\#(service))"#, { "docker unpause $(\(task($0[1])))" }),
            (
                #"docker compose logs((?: (?:--tail \d+|-f|--timestamps))*) (\#(service))"#,
                {
                    "docker service logs\($0[1]) \(full($0[2]))"
                }
            ),
            (#"docker compose (?:restart|start) (\#(service))"#, { "docker service update --force \(full($0[1]))" }),
            (
                #"docker compose port (\#(service)) \d+"#,
                {
                    "docker service inspect --format '{{json .Endpoint.Ports}}' \(full($0[1]))"
                }
            ),
            (
                #"docker compose up -d(?: --force-recreate)?(?: \#(service))*"#,
                {
                    _ in "docker stack deploy -c docker-compose.yml \(name)"
                }
            ),
            (#"docker compose ps (\#(service))"#, { "docker service ps --no-trunc \(full($0[1]))" }),
            (#"docker compose ps\b"#, { _ in "docker stack ps --no-trunc \(name)" }),
            (#"docker compose config\b"#, { _ in "docker stack config -c docker-compose.yml" }),
            (#"\bSTACK_(\#(service))"#, { full($0[1]) }),
        ]
        var text = command
        for (pattern, replacement) in rules {
            guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
            let matches = expression.matches(in: text, range: NSRange(text.startIndex..., in: text))
            for match in matches.reversed() {
                guard let range = Range(match.range, in: text) else { continue }
                let groups = (0..<match.numberOfRanges).map { index in
                    Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
                }
                text.replaceSubrange(range, with: replacement(groups))
            }
        }
        return text
    }
}
