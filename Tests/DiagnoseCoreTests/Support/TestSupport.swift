import DiagnoseCompose
import DiagnoseEngine
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Foundation
import Synchronization

/// The test fixtures folder in the source tree.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// A fresh temporary folder, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Parses runbook text, expecting no findings.
func runbook(_ yaml: String, file: String = "test.yml", registry: ProbeRegistry = .standard) throws -> Runbook {
    let (parsed, findings) = RunbookLoader(registry: registry).parse(yaml, file: file)
    guard findings.isEmpty, let parsed else { throw TestFailure(findings.map(\.description).joined(separator: "\n")) }
    return parsed
}

/// The findings of runbook text.
func findings(_ yaml: String, file: String = "test.yml", registry: ProbeRegistry = .standard) -> [String] {
    RunbookLoader(registry: registry).parse(yaml, file: file).1.map(\.description)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Counts runs per name, shared by closure doubles.
final class RunCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func hit(_ name: String) { counts.withLock { $0[name, default: 0] += 1 } }
    func count(_ name: String) -> Int { counts.withLock { $0[name] ?? 0 } }
}

/// A closure double of a probe: the engine's own logic is what is under test, not the probe.
struct FakeProbe: Probe {
    var body: @Sendable (ProbeContext) async -> Observation
    func run(_ context: ProbeContext) async -> Observation { await body(context) }
}

/// A `fake` kind: `outcome` (pass|fail|error), optional `delay`, `name` counted in `counter`, `cause`.
func fakeKind(counter: RunCounter = RunCounter()) -> ProbeKind {
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
    static func withFake(_ counter: RunCounter = RunCounter()) -> ProbeRegistry {
        ProbeRegistry([.command, .env, fakeKind(counter: counter)])
    }
}

func engine(_ registry: ProbeRegistry, deadline: Duration = .seconds(30), redactor: Redactor = Redactor()) -> Engine {
    Engine(
        registry: registry,
        context: ProbeContext(
            environment: ProcessInfo.processInfo.environment, workingDirectory: FileManager.default.currentDirectoryPath
        ),
        deadline: deadline, redactor: redactor)
}

/// Whether a process exists and is not a zombie waiting to be reaped.
/// The one time bound the tests use: a guard against a hang, never a measure of speed (benchmarks measure speed).
/// Probe timeouts in the tests are a few seconds at most, and what these guards catch (a probe waiting for a server
/// that never answers, for a grandchild holding a pipe for 60 s) lasts a minute or forever, so no load reaches it.
let hangGuard = Duration.seconds(30)

/// Waits, at most `hangGuard`, until none of the processes is alive (signals are delivered and zombies reaped
/// asynchronously), and says whether that happened.
func allGone(_ pids: [Int32]) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + hangGuard
    while pids.contains(where: isAlive) {
        guard clock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}

func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
    return state != "Z" && state != "X"
}

/// A name that cannot resolve and that the resolver refuses without sending a query (a label over 63
/// characters), so tests of `dns-failure` never talk to a DNS server: tests reach only loopback.
let unresolvableHost = String(repeating: "x", count: 64) + ".invalid"
