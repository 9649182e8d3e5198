import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Testing

/// The dns probe against the machine's resolver (hosts file and loopback names only).
@Suite struct DNSProbeTests {
    func run(_ arguments: [String: ArgumentValue]) async throws -> Observation {
        let probe = try ProbeKind.dns.make(ProbeArguments(arguments))
        return await probe.run(ProbeContext(timeout: .seconds(5), environment: [:], workingDirectory: "/"))
    }

    @Test func dnsProbeResolvesLocalhost() async throws {
        let observation = try await run(["host": .scalar("localhost")])
        #expect(observation.outcome == .pass)
        #expect(observation.evidence.first?.hasPrefix("addresses: ") == true)
    }

    @Test func dnsProbePassesWhenAnExpectedAddressIsAmongTheAnswers() async throws {
        let observation = try await run([
            "host": .scalar("localhost"), "addresses": .list([.scalar("10.9.9.9"), .scalar("127.0.0.1")]),
        ])
        #expect(observation.outcome == .pass)
    }

    @Test func dnsProbeComparesIPv6AddressesCanonically() async throws {
        let observation = try await run(["host": .scalar("::1"), "addresses": .scalar("0:0:0:0:0:0:0:1")])
        #expect(observation.outcome == .pass)
    }

    @Test func dnsProbeReportsAnUnexpectedAddress() async throws {
        let observation = try await run(["host": .scalar("localhost"), "addresses": .list([.scalar("10.9.9.9")])])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "unexpected-address")
        #expect(observation.evidence.contains { $0.contains("127.0.0.1") })
    }

    @Test func dnsProbeReportsTheResolversMessage() async throws {
        let observation = try await run(["host": .scalar(unresolvableHost)])
        #expect(observation.outcome == .fail)
        #expect(observation.cause == "dns-failure")
        #expect(observation.evidence.count == 1)
        #expect(observation.evidence.first?.hasPrefix("resolver: ") == true)
    }

    @Test func dnsProbeRejectsAnExpectedAddressThatIsNotOne() {
        #expect(throws: ProbeArgumentError.self) {
            try ProbeKind.dns.make(ProbeArguments(["host": .scalar("db"), "addresses": .scalar("db.local")]))
        }
    }
}
