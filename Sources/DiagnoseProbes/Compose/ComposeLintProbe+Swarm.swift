import DiagnosePlatform
import Foundation
import Yams

/// The `swarm` check: what `docker stack deploy` of this compose file refuses, ignores or does differently from
/// `docker compose up`, so a file written for one host is checked before the move.
///
/// The tables were measured with the docker CLI 28.2 (`docker stack config` and `docker stack deploy` on a
/// single-node Swarm, docs/probes/compose-lint.md); the CLI's own lists live in docker/cli's compose loader.
extension ComposeLintProbe {
    /// Service keys the stack file format (compose file format 3.x) accepts; any other key makes
    /// `docker stack deploy` refuse the file ("Additional property ... is not allowed").
    static let swarmKeys: Set<String> = [
        "build", "cap_add", "cap_drop", "cgroup_parent", "cgroupns_mode", "command", "configs", "container_name",
        "credential_spec", "depends_on", "deploy", "devices", "dns", "dns_search", "domainname", "entrypoint",
        "env_file", "environment", "expose", "external_links", "extra_hosts", "healthcheck", "hostname", "image",
        "init", "ipc", "isolation", "labels", "links", "logging", "mac_address", "network_mode", "networks",
        "oom_score_adj", "pid", "ports", "privileged", "read_only", "restart", "secrets", "security_opt", "shm_size",
        "stdin_open", "stop_grace_period", "stop_signal", "sysctls", "tmpfs", "tty", "ulimits", "user",
        "userns_mode", "volumes", "working_dir",
    ]

    /// Keys the format knows but the CLI forbids, with what to do instead (docker/cli's ForbiddenProperties).
    static let swarmForbidden: [String: String] = [
        "extends": "resolve it first (docker compose config > stack.yml) and deploy that",
        "volume_driver": "define the volume under the top-level volumes with its driver",
        "volumes_from": "share a named volume from the top-level volumes",
        "cpu_quota": "set deploy.resources.limits.cpus",
        "cpu_shares": "set deploy.resources.reservations.cpus",
        "cpuset": "set deploy.resources.limits.cpus",
        "mem_limit": "set deploy.resources.limits.memory",
        "memswap_limit": "set deploy.resources.limits.memory",
    ]

    /// What to write instead of a key the stack format does not have, where there is an equivalent.
    static let swarmInstead: [String: String] = [
        "cpus": "set deploy.resources.limits.cpus",
        "mem_reservation": "set deploy.resources.reservations.memory",
        "profiles": "deploy the services wanted from a file that holds only them",
        "scale": "set deploy.replicas",
        "pids_limit": "set deploy.resources.limits.pids",
    ]

    /// Keys `docker stack deploy` accepts and ignores, printing "Ignoring unsupported options" (or "deprecated"),
    /// with what that changes.
    static let swarmIgnored: [String: String] = [
        "build": "Swarm never builds, so every node must be able to pull the service's image",
        "restart": "Swarm restarts every task that exits, whatever this says (deploy.restart_policy decides)",
        "container_name": "tasks are named STACK_SERVICE.N.ID; reach the service by its name",
        "expose": "services on one network reach each other on any port",
        "links": "services on one network resolve each other by name",
        "network_mode": "tasks join the stack's overlay networks",
        "privileged": "tasks never run privileged",
        "devices": "tasks get no host devices",
    ]

    /// The keys of `swarmIgnored`, and the others `docker stack deploy` ignores without a consequence worth a line.
    static let swarmIgnoredKeys: Set<String> = Set(swarmIgnored.keys).union([
        "security_opt", "pid", "ipc", "shm_size", "userns_mode", "cgroup_parent", "domainname", "external_links",
        "mac_address",
    ])

    /// Top-level keys of the stack file format.
    static let swarmTopKeys: Set<String> = ["version", "services", "networks", "volumes", "secrets", "configs"]

    /// One thing the move would change, for a service or the whole file.
    struct SwarmFinding {
        var refused: Bool
        var text: String
    }

    func swarm(_ root: [String: Node], services: [String: Node], path: String, context: ProbeContext) -> Observation {
        var findings: [SwarmFinding] = root.keys.sorted().filter {
            !$0.hasPrefix("x-") && !Self.swarmTopKeys.contains($0)
        }
        .map { SwarmFinding(refused: true, text: "the top-level \($0) is not in the stack file format; remove it") }
        for name in services.keys.sorted() {
            findings += swarmFindings(service: name, services[name]?.mapping)
        }
        findings += dotEnvFindings(root, path: path, context: context)
        let refused = findings.filter(\.refused)
        let differs = findings.filter { !$0.refused }
        let evidence = refused.map { "refused: \($0.text)" } + differs.map { "differs: \($0.text)" }
        if !refused.isEmpty {
            return .fail(
                Cause.swarmRefused.rawValue,
                "docker stack deploy refuses \(file.isEmpty ? "the compose file" : file): "
                    + refused.map(\.text).joined(separator: "; ").truncated(to: 300),
                evidence: evidence)
        }
        if !differs.isEmpty {
            return .fail(
                Cause.swarmDiffers.rawValue,
                "\(differs.count) setting\(differs.count == 1 ? "" : "s") of the compose file would act differently on Swarm",
                evidence: evidence)
        }
        return .pass("docker stack deploy takes the compose file as it is, with nothing ignored")
    }

    func swarmFindings(service name: String, _ service: Node.Mapping?) -> [SwarmFinding] {
        guard let service else { return [] }
        var findings: [SwarmFinding] = []
        let keys = service.keys.compactMap(\.string).filter { !$0.hasPrefix("x-") }.sorted()
        for key in keys {
            if let instead = Self.swarmForbidden[key] {
                findings.append(
                    SwarmFinding(refused: true, text: "\(name): \(key) is forbidden in a stack; \(instead)"))
            } else if !Self.swarmKeys.contains(key) {
                let instead = Self.swarmInstead[key].map { "; \($0)" } ?? "; remove it"
                findings.append(
                    SwarmFinding(refused: true, text: "\(name): \(key) is not in the stack file format\(instead)"))
            } else if Self.swarmIgnoredKeys.contains(key) {
                let effect = Self.swarmIgnored[key].map { ": \($0)" } ?? ""
                findings.append(SwarmFinding(refused: false, text: "\(name): \(key) is ignored\(effect)"))
            }
        }
        if let dependsOn = service["depends_on"] {
            if dependsOn.mapping != nil {
                findings.append(
                    SwarmFinding(
                        refused: true,
                        text:
                            "\(name): depends_on has conditions (e.g. service_healthy), and a stack takes only a list of names; "
                            + "Swarm starts services in any order, so \(name) must wait for its dependencies itself"))
            } else {
                findings.append(
                    SwarmFinding(
                        refused: false,
                        text: "\(name): depends_on is ignored: Swarm starts services in any order and waits for none"))
            }
        }
        for port in service["ports"]?.sequence ?? [] {
            let shown = port.string ?? port.mapping?["target"]?.string.map { "target \($0)" } ?? "a port"
            let parts = port.string?.split(separator: ":") ?? []
            if parts.count == 3 || port.mapping?["host_ip"] != nil {
                let address = port.mapping?["host_ip"]?.string ?? String(parts[0])
                findings.append(
                    SwarmFinding(
                        refused: false,
                        text:
                            "\(name): port \(shown) is bound to \(address) here, but Swarm ignores the address and "
                            + "publishes it on every address of the node (0.0.0.0)"))
            }
            guard port.mapping?["mode"]?.string != "host" else { continue }
            findings.append(
                SwarmFinding(
                    refused: false,
                    text:
                        "\(name): port \(shown) is published through the routing mesh (ingress), which needs iptables on "
                        + "every node; mode: host publishes it on the node that runs the task"))
        }
        return findings
    }

    /// `docker stack deploy` reads no `.env`: a `${VAR}` that only the env file sets becomes empty.
    /// Only the file's values count, as compose interpolates only them: a `${VAR}` in a comment is no use of it.
    func dotEnvFindings(_ root: [String: Node], path: String, context: ProbeContext) -> [SwarmFinding] {
        let folder = (path as NSString).deletingLastPathComponent
        guard let envText = TextFile.read(folder.isEmpty ? ".env" : folder + "/.env"),
            let values = try? EnvFile(parsing: envText).values
        else { return [] }
        var used = Set<String>()
        var pending = Array(root.values)
        while let node = pending.popLast() {
            switch node {
            case .scalar(let scalar):
                _ = VariableExpansion.composeInterpolated(scalar.string) { name in
                    used.insert(name)
                    return nil
                }
            case .mapping(let mapping): pending += mapping.map(\.value)
            case .sequence(let sequence): pending += Array(sequence)
            case .alias: break
            }
        }
        let onlyInEnvFile = used.filter { values[$0] != nil && context.environment[$0] == nil }.sorted()
        guard !onlyInEnvFile.isEmpty else { return [] }
        return [
            SwarmFinding(
                refused: false,
                text:
                    "the file uses \(onlyInEnvFile.map { "${\($0)}" }.joined(separator: ", ")), set only in .env, which "
                    + "docker stack deploy does not read: they become empty unless exported (or listed under env_file)")
        ]
    }
}
