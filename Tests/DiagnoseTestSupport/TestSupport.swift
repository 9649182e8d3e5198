import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Synchronization

/// The `Fixtures` folder beside the calling file in the source tree.
package func fixturesFolder(_ filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
}

/// A fresh temporary folder, removed by the caller.
package func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Parses runbook text, expecting no findings.
package func runbook(_ yaml: String, file: String = "test.yml", registry: ProbeRegistry = .standard) throws -> Runbook {
    let (parsed, findings) = RunbookLoader(registry: registry).parse(yaml, file: file)
    guard findings.isEmpty, let parsed else { throw TestFailure(findings.map(\.description).joined(separator: "\n")) }
    return parsed
}

/// The findings of runbook text.
package func findings(_ yaml: String, file: String = "test.yml", registry: ProbeRegistry = .standard) -> [String] {
    RunbookLoader(registry: registry).parse(yaml, file: file).1.map(\.description)
}

package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Counts runs per name, shared by closure doubles.
package final class RunCounter: Sendable {
    package init() {}
    private let counts = Mutex<[String: Int]>([:])
    package func hit(_ name: String) { counts.withLock { $0[name, default: 0] += 1 } }
    package func count(_ name: String) -> Int { counts.withLock { $0[name] ?? 0 } }
}

/// A closure double of a probe: the engine's own logic is what is under test, not the probe.
package struct FakeProbe: Probe {
    package var body: @Sendable (ProbeContext) async -> Observation
    package func run(_ context: ProbeContext) async -> Observation { await body(context) }
}

/// A `fake` kind: `outcome` (pass|fail|error), optional `delay`, `name` counted in `counter`, `cause`.
package func fakeKind(counter: RunCounter = RunCounter()) -> ProbeKind {
    ProbeKind(name: "fake", required: ["outcome"], optional: ["delay", "name", "cause", "evidence"]) {
        arguments throws(ProbeArgumentError) in
        let outcome = try arguments.choice("outcome", ["pass", "fail", "error"]).flatMap(Outcome.init) ?? .pass
        let delay = try arguments.duration("delay") ?? .zero
        let name = try arguments.string("name") ?? "fake"
        let cause = try arguments.string("cause")
        let evidence = try arguments.strings("evidence") ?? []
        return FakeProbe { _ in
            counter.hit(name)
            if delay > .zero { try? await Task.sleep(for: delay) }
            return Observation(
                outcome: outcome, cause: outcome == .pass ? nil : cause ?? "fake", summary: "\(name) \(outcome)",
                evidence: evidence)
        }
    }
}

extension ProbeRegistry {
    package static func withFake(_ counter: RunCounter = RunCounter()) -> ProbeRegistry {
        ProbeRegistry([.command, .env, fakeKind(counter: counter)])
    }
}

package func engine(
    _ registry: ProbeRegistry, deadline: Duration = .seconds(30), redactor: Redactor = Redactor.standard
)
    -> Engine
{
    Engine(
        registry: registry,
        context: ProbeContext(
            environment: ProcessInfo.processInfo.environment, workingDirectory: FileManager.default.currentDirectoryPath
        ),
        deadline: deadline, redactor: redactor)
}

/// The one time bound the tests use: a guard against a hang, never a measure of speed (benchmarks measure speed).
/// Probe timeouts in the tests are a few seconds at most, and what these guards catch (a probe waiting for a server
/// that never answers, for a grandchild holding a pipe for 60 s) lasts a minute or forever, so no load reaches it.
package let hangGuard = Duration.seconds(30)

/// Waits, at most `hangGuard`, until none of the processes is alive (signals are delivered and zombies reaped
/// asynchronously), and says whether that happened.
package func allGone(_ pids: [Int32]) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + hangGuard
    while pids.contains(where: isAlive) {
        guard clock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}

/// Whether a process exists and is not a zombie waiting to be reaped.
package func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
    return state != "Z" && state != "X"
}

/// A name that cannot resolve and that the resolver refuses without sending a query (a label over 63
/// characters), so tests of `dns-failure` never talk to a DNS server: tests reach only loopback.
package let unresolvableHost = String(repeating: "x", count: 64) + ".invalid"

/// A fresh folder under the system's temporary folder.
package func temporaryDirectory(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "dgtest-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
