import DiagnoseCompose
import DiagnosePlatform

/// Checks that a name resolves, optionally to one of the expected addresses.
///
/// Causes, fail: `dns-failure`, `dns-timeout`, `unexpected-address`. Cause, error: `cancelled`.
public struct DNSProbe: Probe {
    /// The causes of its fail and error observations: the strings runbooks route on and the JSON carries.
    public enum Cause: String, Sendable {
        /// The name resolves, but to none of the expected addresses.
        case unexpectedAddress = "unexpected-address"
    }

    /// The name looked up.
    public var host: String
    /// Addresses of which at least one must be among the answers, in canonical form; empty: any answer passes.
    public var addresses: [String]

    /// Builds the probe: `host`, and optionally `addresses` (IPv4 or IPv6 addresses).
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        host = try arguments.requiredString("host").trimmingWhitespace()
        guard !host.isEmpty else { throw ProbeArgumentError("host", "must name a host, e.g. db or example.org") }
        addresses = try (arguments.strings("addresses") ?? []).map { text throws(ProbeArgumentError) in
            guard let address = SocketAddress.canonical(text.trimmingWhitespace()) else {
                throw ProbeArgumentError("addresses", "'\(text)' is not an IPv4 or IPv6 address")
            }
            return address
        }
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let host = self.host
        let expected = addresses
        return await NetworkDeadline.offloaded(context) { deadline in
            switch Resolver.resolve(host, port: 0, deadline: deadline) {
            case .failure(let failure):
                return TCPProbe.observation(failure, host: host, port: 0, timeout: context.timeout)
            case .success(let found):
                let answers = found.map(\.host)
                let evidence = ["addresses: " + answers.joined(separator: ", ")]
                if expected.isEmpty || answers.contains(where: expected.contains) {
                    return .pass("\(host) resolves to \(answers.joined(separator: ", "))", evidence: evidence)
                }
                return .fail(
                    Cause.unexpectedAddress.rawValue,
                    "\(host) resolves to \(answers.joined(separator: ", ")), none of \(expected.joined(separator: ", "))",
                    evidence: evidence + ["expected one of: " + expected.joined(separator: ", ")])
            }
        }
    }
}

extension ProbeKind {
    /// `dns`: checks that a name resolves, optionally to an expected address.
    public static let dns = ProbeKind(name: "dns", required: ["host"], optional: ["addresses"]) {
        arguments throws(ProbeArgumentError) in try DNSProbe(arguments)
    }
}
