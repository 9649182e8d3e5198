import DiagnoseCompose
import DiagnosePlatform
import Foundation
import Yams

/// Checks the compose file itself against the stack's rules: resource limits, healthchecks, healthy
/// dependencies, no hard-coded secrets, service URLs that point at a service's container port, and the
/// variables the env file must set. Reads the file directly (no compose CLI call), so it is cheap and works the
/// same for compose v1 and v2.
///
/// Causes: `missing-limits`, `missing-healthcheck`, `not-healthy-dependency`, `hardcoded-secret`, `localhost`,
/// `host-port`, `unknown-host`, `wrong-port`, `unset`, `unset-variable`, `swarm-refused`, `swarm-differs`, `swarm` (fail);
/// `unreadable`, `invalid` (error).
public struct ComposeLintProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// A secret is written literally in the compose file.
        case hardcodedSecret = "hardcoded-secret"
        /// A service URL uses the host port instead of the container port.
        case hostPort = "host-port"
        /// The compose file or its configuration is invalid (error).
        case invalid
        /// A service URL points at localhost, which inside a container is the container itself.
        case localhost
        /// A service has no healthcheck.
        case missingHealthcheck = "missing-healthcheck"
        /// A service has no resource limits or reservations.
        case missingLimits = "missing-limits"
        /// A dependency is not awaited with `condition: service_healthy`.
        case notHealthyDependency = "not-healthy-dependency"
        /// `docker stack deploy` would take the file but ignore or change some of it (`swarm`).
        case swarmDiffers = "swarm-differs"
        /// `docker stack deploy` would refuse the file (`swarm`).
        case swarmRefused = "swarm-refused"
        /// `check: orchestrator`: the stack is deployed to Swarm.
        case swarm
        /// A service URL names a host that is no service of the compose file.
        case unknownHost = "unknown-host"
        /// The file cannot be read (error).
        case unreadable
        /// The value (or variable) is not set, or is empty.
        case unset
        /// A variable the compose file or env file needs is not set.
        case unsetVariable = "unset-variable"
        /// A service URL uses a port the target service does not listen on.
        case wrongPort = "wrong-port"
    }

    /// The rule to check.
    public enum Check: String, Sendable, CaseIterable {
        case resourceLimits = "resource-limits"
        case healthcheck
        case dependsHealthy = "depends-healthy"
        case hardcodedSecrets = "hardcoded-secrets"
        case serviceURL = "service-url"
        case envFile = "env-file"
        case swarm
        case orchestrator
    }

    var file: String
    var envFile: String
    var check: Check
    var service: String?
    var target: String?
    var variable: String?
    var port: Int?
    var variables: [String]
    var orchestrator: String

    /// Builds the probe: `check`, and the arguments that check needs.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        // Empty (an unset ${COMPOSE_FILE:-}) means compose's own lookup: compose.yaml, ..., docker-compose.yml.
        file = try arguments.string("file")?.trimmingWhitespace() ?? ""
        envFile = try arguments.string("env_file") ?? ".env"
        guard let name = try arguments.choice("check", Check.allCases.map(\.rawValue)),
            let check = Check(rawValue: name)
        else {
            throw ProbeArgumentError(
                "check", "is required: one of \(Check.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.check = check
        service = try arguments.string("service")
        target = try arguments.string("target")
        variable = try arguments.string("variable")
        port = try arguments.int("port", in: 1...65535)
        variables = try arguments.strings("variables") ?? []
        orchestrator = try arguments.string("orchestrator")?.trimmingWhitespace().lowercased() ?? ""
        switch check {
        case .healthcheck where service == nil:
            throw ProbeArgumentError("service", "is required for check 'healthcheck'")
        case .dependsHealthy where service == nil || target == nil:
            throw ProbeArgumentError("", "check 'depends-healthy' needs 'service' and 'target'")
        case .serviceURL where service == nil || variable == nil || target == nil || port == nil:
            throw ProbeArgumentError("", "check 'service-url' needs 'service', 'variable', 'target' and 'port'")
        case .envFile where variables.isEmpty:
            throw ProbeArgumentError("variables", "is required for check 'env-file': the variables that must be set")
        default: break
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        if check == .orchestrator { return await whichOrchestrator(context) }
        // File reads block; they run on their own thread, never on the cooperative pool.
        let probe = self
        return await offload { probe.check(context) }
    }

    func check(_ context: ProbeContext) -> Observation {
        let first = String(file.prefix { $0 != ":" })
        let path = first.isEmpty ? ComposeProject.defaultFile(in: context.workingDirectory) : context.resolve(first)
        if check == .envFile { return checkEnvFile(context) }
        guard let text = TextFile.read(path) else {
            return .error(
                Cause.unreadable.rawValue,
                "cannot read the compose file \(path) (missing, not a regular file, or over 4 MiB)")
        }
        let services: [String: Node]
        let top: [String: Node]
        do {
            guard let root = try Yams.compose(yaml: text), let mapping = root.mapping,
                let servicesNode = mapping["services"]?.mapping
            else {
                return .error(Cause.invalid.rawValue, "\(file) has no 'services' mapping")
            }
            top = Dictionary(
                mapping.compactMap { key, value in key.string.map { ($0, value) } },
                uniquingKeysWith: { first, _ in first })
            services = Dictionary(
                servicesNode.compactMap { key, value in key.string.map { ($0, value) } },
                uniquingKeysWith: { first, _ in first })
        } catch {
            return .error(Cause.invalid.rawValue, "\(file) is not valid YAML: \(String(describing: error).firstLine)")
        }
        switch check {
        case .resourceLimits: return resourceLimits(services)
        case .healthcheck: return healthcheck(services)
        case .dependsHealthy: return dependsHealthy(services)
        case .hardcodedSecrets: return hardcodedSecrets(services)
        case .serviceURL: return serviceURL(services, context: context)
        case .envFile: return checkEnvFile(context)
        case .swarm: return swarm(top, services: services, path: path, context: context)
        case .orchestrator: return .error(Cause.invalid.rawValue, "the orchestrator is not read from the file")
        }
    }

    func resourceLimits(_ services: [String: Node]) -> Observation {
        var missing: [String] = []
        for name in services.keys.sorted() {
            let resources = services[name]?.mapping?["deploy"]?.mapping?["resources"]?.mapping
            var lacks: [String] = []
            for part in ["limits", "reservations"] {
                let section = resources?[part]?.mapping
                for field in ["cpus", "memory"] where section?[field] == nil { lacks.append("\(part).\(field)") }
            }
            if !lacks.isEmpty { missing.append("\(name): no deploy.resources \(lacks.joined(separator: ", "))") }
        }
        guard missing.isEmpty else {
            let names = missing.map { String($0.prefix { $0 != ":" }) }
            return .fail(
                Cause.missingLimits.rawValue,
                "\(names.joined(separator: ", ")) \(names.count == 1 ? "has" : "have") no resource limits and reservations",
                evidence: missing)
        }
        return .pass("all \(services.count) services set limits and reservations for cpus and memory")
    }

    func healthcheck(_ services: [String: Node]) -> Observation {
        guard let service, let node = services[service] else { return unknownService(self.service ?? "", services) }
        guard let check = node.mapping?["healthcheck"]?.mapping, let test = check["test"],
            check["disable"]?.bool != true
        else {
            return .fail(
                Cause.missingHealthcheck.rawValue,
                "\(service) has no healthcheck, so nothing can wait for it to be healthy")
        }
        let command = test.sequence.map { $0.compactMap(\.string).joined(separator: " ") } ?? test.string ?? ""
        let timing = ["interval", "timeout", "retries", "start_period"].compactMap { key in
            check[key]?.string.map { "\(key) \($0)" }
        }
        return .pass(
            "\(service) has a healthcheck",
            evidence: ["test: \(command)"] + (timing.isEmpty ? [] : [timing.joined(separator: ", ")]))
    }

    func dependsHealthy(_ services: [String: Node]) -> Observation {
        guard let service, let target, let node = services[service] else {
            return unknownService(self.service ?? "", services)
        }
        let dependsOn = node.mapping?["depends_on"]
        if let list = dependsOn?.sequence, list.contains(where: { $0.string == target }) {
            return .fail(
                Cause.notHealthyDependency.rawValue, "\(service) depends on \(target) only being started, not healthy",
                evidence: ["depends_on: [\(list.compactMap(\.string).joined(separator: ", "))]"])
        }
        guard let condition = dependsOn?.mapping?[target]?.mapping?["condition"]?.string else {
            return .fail(Cause.notHealthyDependency.rawValue, "\(service) does not depend on \(target)")
        }
        guard condition == "service_healthy" else {
            return .fail(
                Cause.notHealthyDependency.rawValue,
                "\(service) waits for \(target) with condition \(condition), not service_healthy")
        }
        return .pass(
            "\(service) waits for \(target) to be healthy",
            evidence: ["depends_on.\(target).condition: service_healthy"])
    }

    func hardcodedSecrets(_ services: [String: Node]) -> Observation {
        var found: [String] = []
        for name in services.keys.sorted() {
            for (variable, value) in Self.environment(of: services[name]) {
                guard let value, !value.trimmingWhitespace().isEmpty else { continue }
                if Redactor.isSecretName(variable), !value.contains("$") {
                    found.append("\(name): \(variable) is set to a literal value in the compose file")
                } else if let password = Redactor.urlPassword(value), !password.contains("$") {
                    found.append("\(name): \(variable) holds a URL with a literal password in the compose file")
                }
            }
        }
        guard found.isEmpty else {
            return .fail(
                Cause.hardcodedSecret.rawValue,
                "\(found.count) secret\(found.count == 1 ? "" : "s") hard-coded in \(file)",
                evidence: found)
        }
        return .pass("no secret-looking variable has a literal value in \(file)")
    }

    func serviceURL(_ services: [String: Node], context: ProbeContext) -> Observation {
        guard let service, let variable, let target, let port, let node = services[service] else {
            return unknownService(self.service ?? "", services)
        }
        let environment = Self.environment(of: node)
        guard let raw = environment.first(where: { $0.0 == variable })?.1 ?? nil, !raw.isEmpty else {
            return .fail(Cause.unset.rawValue, "\(service) has no \(variable) in \(file)")
        }
        let envValues =
            (try? EnvFile(parsing: TextFile.read(context.resolve(envFile)) ?? "")
                .values) ?? [:]
        let value = VariableExpansion.composeInterpolated(raw) { context.environment[$0] ?? envValues[$0] }
        let evidence = ["\(service): \(variable)=\(value)"]
        guard let url = URLComponents(string: value), let host = url.host, !host.isEmpty else {
            return .fail(
                Cause.unknownHost.rawValue, "\(variable) of \(service) is '\(value)', which is not a URL",
                evidence: evidence)
        }
        let expected = "http://\(target):\(port)"
        if ["localhost", "127.0.0.1", "::1", "0.0.0.0"].contains(host) {
            return .fail(
                Cause.localhost.rawValue,
                "\(variable) of \(service) points at \(host), which inside the \(service) container is \(service) itself, not \(target); use \(expected)",
                evidence: evidence)
        }
        guard services[host] != nil || Self.aliases(services).contains(host) else {
            return .fail(
                Cause.unknownHost.rawValue,
                "\(variable) of \(service) points at '\(host)', which is no service of \(file); use \(expected)",
                evidence: evidence + ["services: \(services.keys.sorted().joined(separator: ", "))"])
        }
        let actualPort = url.port ?? (url.scheme == "https" ? 443 : 80)
        if actualPort != port {
            let published = Self.publishedPorts(of: services[host])
            if let mapping = published.first(where: { $0.host == actualPort }) {
                return .fail(
                    Cause.hostPort.rawValue,
                    "\(variable) of \(service) uses \(host):\(actualPort), the port published on the host; between containers \(host) listens on \(mapping.container): use \(expected)",
                    evidence: evidence + ["\(host) publishes \(mapping.host) -> \(mapping.container)"])
            }
            return .fail(
                Cause.wrongPort.rawValue,
                "\(variable) of \(service) uses port \(actualPort), but \(host) listens on \(port); use \(expected)",
                evidence: evidence)
        }
        if host != target {
            return .fail(
                Cause.unknownHost.rawValue,
                "\(variable) of \(service) points at \(host), not \(target); use \(expected)",
                evidence: evidence)
        }
        return .pass("\(variable) of \(service) is \(value)", evidence: evidence)
    }

    func checkEnvFile(_ context: ProbeContext) -> Observation {
        let path = context.resolve(envFile)
        guard let text = TextFile.read(path) else {
            return .fail(
                Cause.unsetVariable.rawValue,
                "there is no env file at \(envFile); the stack needs \(variables.joined(separator: ", "))")
        }
        let values: [String: String]
        do {
            values = try EnvFile(parsing: text).values
        } catch {
            return .error(Cause.invalid.rawValue, "\(envFile):\(error.line): \(error.message)")
        }
        let missing = variables.filter { (values[$0] ?? "").trimmingWhitespace().isEmpty }
        let evidence = variables.map { name in "\(name): \((values[name] ?? "").isEmpty ? "not set" : "set")" }
        guard missing.isEmpty else {
            return .fail(
                Cause.unsetVariable.rawValue, "\(envFile) does not set \(missing.joined(separator: ", "))",
                evidence: evidence)
        }
        return .pass("\(envFile) sets \(variables.joined(separator: ", "))", evidence: evidence)
    }

    func unknownService(_ name: String, _ services: [String: Node]) -> Observation {
        .error(
            Cause.invalid.rawValue,
            "\(file) has no service '\(name)'; services: \(services.keys.sorted().joined(separator: ", "))")
    }

    /// A service's environment entries, from the list form (`- NAME=value`) or the map form.
    static func environment(of service: Node?) -> [(String, String?)] {
        guard let environment = service?.mapping?["environment"] else { return [] }
        if let list = environment.sequence {
            return list.compactMap(\.string).map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : nil)
            }
        }
        return (environment.mapping ?? [:]).compactMap { key, value in key.string.map { ($0, value.string) } }
    }

    /// Host -> container port pairs a service publishes.
    static func publishedPorts(of service: Node?) -> [(host: Int, container: Int)] {
        (service?.mapping?["ports"]?.sequence ?? []).compactMap { node in
            if let text = node.string {
                let parts = text.split(separator: "/").first.map { $0.split(separator: ":") } ?? []
                guard parts.count >= 2, let host = Int(parts[parts.count - 2]),
                    let container = Int(parts[parts.count - 1])
                else { return nil }
                return (host, container)
            }
            guard let published = node.mapping?["published"]?.int, let target = node.mapping?["target"]?.int else {
                return nil
            }
            return (published, target)
        }
    }

    static func aliases(_ services: [String: Node]) -> Set<String> {
        Set(services.values.compactMap { $0.mapping?["container_name"]?.string })
    }
}

extension ProbeKind {
    /// `compose-lint`: checks the compose file against the stack's rules.
    public static let composeLint = ProbeKind(
        name: "compose-lint", required: ["check"],
        optional: ["file", "env_file", "service", "target", "variable", "port", "variables", "orchestrator"]
    ) { arguments throws(ProbeArgumentError) in try ComposeLintProbe(arguments) }
}
