import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Foundation
import Testing

/// Output is bounded however much a program prints: `command` keeps 64 KiB of each stream, `logs command:` the
/// last 64 MiB, and both read the rest to the end (so the program finishes) without keeping it.
@Suite(.serialized) struct ResourceBoundsTests {
    static let hundredMegabytes = 100_000_000

    @Test func aCommandPrinting100MBIsCapturedTo64KiBAndFinishes() async throws {
        let probe = try CommandProbe(
            ProbeArguments([
                "shell": .scalar("head -c \(Self.hundredMegabytes) /dev/zero | tr '\\\\0' x; echo; echo end")
            ]))
        let context = ProbeContext(
            timeout: .seconds(30), environment: ProcessInfo.processInfo.environment, workingDirectory: "/")
        let observation = await probe.run(context)
        #expect(observation.outcome == .pass, "\(observation.summary)")
        let stdout = try #require(observation.evidence.first { $0.hasPrefix("stdout:") })
        let dropped = Self.hundredMegabytes + 5 - ProcessRunner.defaultCaptureLimit
        #expect(stdout.hasSuffix("(\(dropped) more bytes of stdout read and dropped)"))
        #expect(stdout.utf8.count < 5_000)

        let result = await ProcessRunner.run(
            ["/bin/sh", "-c", "head -c \(Self.hundredMegabytes) /dev/zero"], timeout: .seconds(30))
        #expect(result.exitStatus == 0)
        #expect(result.stdoutBytes == Self.hundredMegabytes)
        #expect(result.stdout.utf8.count == ProcessRunner.defaultCaptureLimit)
    }

    /// A log command printing far more than the limit: the lines searched are its last ones, not its first.
    @Test func aLogsCommandPrinting100MBKeepsItsLastLines() async throws {
        let line = "INFO an ordinary line of the log, about fifty bytes"
        let lines = Self.hundredMegabytes / (line.utf8.count + 1)
        let script = "echo 'ERROR first line'; yes '\(line)' | head -n \(lines); echo 'ERROR last line'"
        let total = lines * (line.utf8.count + 1) + "ERROR first line\nERROR last line\n".utf8.count
        let probe = try LogsProbe(
            ProbeArguments([
                "command": .list([.scalar("/bin/sh"), .scalar("-c"), .scalar(script)]),
                "pattern": .scalar("ERROR"), "tail": .scalar("100"),
            ]))
        let context = ProbeContext(
            timeout: .seconds(60), environment: ProcessInfo.processInfo.environment, workingDirectory: "/")
        let observation = await probe.run(context)
        #expect(observation.cause == "found")
        #expect(observation.summary.hasSuffix("ERROR last line"), "\(observation.summary)")
        let count = try #require(observation.evidence.first { $0.contains("matching line") })
        #expect(count.hasPrefix("1 matching line "), "\(count)")
        #expect(count.contains("of \(total) bytes"), "\(count)")
    }
}
