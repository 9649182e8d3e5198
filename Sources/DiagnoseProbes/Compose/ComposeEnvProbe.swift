import DiagnoseCompose
import DiagnosePlatform
import Foundation
import Yams

/// Checks a variable of a compose service's environment, as its running container has it (`Config.Env` from the
/// shared inspect) or as the resolved compose file gives it (`from: config`), with the rules of `env`.
///
/// Causes: `unset`, `not-equal`, `mismatch`, `not-one-of`, `set` (fail); `not-created`, `unknown-service`,
/// `invalid`, `docker-missing`, `engine-unreachable`, `docker-error`, `cancelled` (error).
/// A secret-looking name never shows its value.
public struct ComposeEnvProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// An argument cannot be used as given (error).
        case badArgument = "bad-argument"
        /// The compose file or its configuration is invalid (error).
        case invalid
        /// The service is not in the compose project (error).
        case unknownService = "unknown-service"
        /// The value (or variable) is not set, or is empty.
        case unset
    }

    /// Where the value is read.
    public enum Origin: String, Sendable, Hashable {
        /// The service's container, as it runs.
        case container
        /// The compose CLI's resolved `config`, as the file says it should run.
        case config
    }

    /// The service.
    public var service: String
    /// The variable.
    public var name: String
    /// Where the value is read.
    public var origin: Origin
    /// Its project.
    public var selector: ComposeProject.Selector
    /// The rule's arguments, handed to `env` with the value found.
    let ruleArguments: [String: ArgumentValue]

    static let ruleNames = ["equals", "matches", "one_of", "set"]

    /// Builds the probe from `service`, `name`, `from` and exactly one of `equals`, `matches`, `one_of`, `set`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        service = try arguments.requiredString("service")
        name = try arguments.requiredString("name")
        origin = try arguments.choice("from", ["container", "config"]).flatMap(Origin.init(rawValue:)) ?? .container
        selector = try ComposeProject.Selector(arguments)
        ruleArguments = arguments.values.filter { Self.ruleNames.contains($0.key) }
        _ = try rule(for: "")
    }

    /// The `env` probe that applies the rule to a value.
    func rule(for value: String) throws(ProbeArgumentError) -> EnvProbe {
        var values = ruleArguments
        values["value"] = .scalar(value)
        values["name"] = .scalar(name)
        return try EnvProbe(ProbeArguments(values))
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let project = context.compose.project(selector)
        let value: String?
        let place: String
        switch origin {
        case .container:
            switch await context.compose.container(of: service, in: project.name, cancellation: context.cancellation) {
            case .failure(let error): return error.observation
            case .success(let container):
                value = container.environmentValue(name)
                place = "container \(container.name)"
            }
        case .config:
            let output: ComposeConfigOutput
            switch await context.compose.config(
                of: project, timeout: context.timeout, cancellation: context.cancellation)
            {
            case .failure(let error): return error.observation
            case .success(let found): output = found
            }
            switch Self.environment(of: service, in: output) {
            case .unusable(let observation): return observation
            case .found(let environment): value = environment[name]
            }
            place = "the compose configuration of service '\(service)'"
        }
        guard let value else {
            let rule = try? self.rule(for: "")
            if case .set(false)? = rule?.rule { return .pass("\(name) is not set in \(place)") }
            return .fail(
                Cause.unset.rawValue, "\(name) is not set in \(place)", evidence: ["\(name) is absent from \(place)"])
        }
        guard let probe = try? rule(for: value) else {
            return .error(Cause.badArgument.rawValue, "the rule cannot be applied")
        }
        var observation = await probe.run(context)
        observation.summary += " in \(place)"
        return observation
    }

    /// A service's environment in resolved compose configuration, or the error observation saying why not.
    enum ConfigEnvironment {
        /// The service's variables.
        case found([String: String])
        /// `unknown-service` or `invalid`.
        case unusable(Observation)
    }

    /// A service's environment in the compose CLI's resolved `config`.
    static func environment(of service: String, in output: ComposeConfigOutput) -> ConfigEnvironment {
        let invalid = Observation.error(
            Cause.invalid.rawValue, "the compose configuration cannot be read; run the compose-config probe for details"
        )
        guard output.result.exitStatus == 0 else { return .unusable(invalid) }
        if let environment = environment(of: service, inConfig: output.result.stdout) { return .found(environment) }
        guard let known = services(inConfig: output.result.stdout) else { return .unusable(invalid) }
        return .unusable(
            .error(
                Cause.unknownService.rawValue,
                "the compose file has no service '\(service)'\(didYouMean(service, among: known))",
                evidence: ["services: \(known.joined(separator: ", "))"]))
    }

    /// A service's environment from resolved compose YAML, as a map whatever form the file used.
    static func environment(of service: String, inConfig yaml: String) -> [String: String]? {
        guard let root = (try? Yams.load(yaml: yaml)) as? [String: Any],
            let services = root["services"] as? [String: Any],
            let definition = services[service] as? [String: Any]
        else { return nil }
        switch definition["environment"] {
        case let map as [String: Any]:
            return map.mapValues { $0 is NSNull ? "" : "\($0)" }
        case let list as [Any]:
            var result: [String: String] = [:]
            for case let entry as String in list {
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            return result
        default:
            return [:]
        }
    }

    /// The services named in resolved compose YAML.
    static func services(inConfig yaml: String) -> [String]? {
        guard let root = (try? Yams.load(yaml: yaml)) as? [String: Any],
            let services = root["services"] as? [String: Any]
        else { return nil }
        return services.keys.sorted()
    }
}

extension ProbeKind {
    /// `compose-env`: a variable of a service's container (or resolved compose) environment follows a rule.
    public static let composeEnv = ProbeKind(
        name: "compose-env", required: ["service", "name"],
        optional: ComposeProject.argumentNames.union(["from"]).union(ComposeEnvProbe.ruleNames)
    ) { arguments throws(ProbeArgumentError) in try ComposeEnvProbe(arguments) }
}
