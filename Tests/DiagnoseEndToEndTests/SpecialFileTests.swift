import DiagnoseReport
import Foundation
import Testing

/// What is not a regular file, through the built binary: `report --force` and `--output` never replace it, and a
/// runbooks folder holding one is not blocked by it.
@Suite(.serialized) struct SpecialFileTests {
    let runbooks = ["runbooks/green.yml": commandRunbook("true")]

    /// The names in a folder, but the runbooks.
    func names(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != "runbooks" }.sorted()
    }

    @Test(arguments: SpecialFile.allCases)
    func reportForceRefusesToReplaceIt(_ special: SpecialFile) async throws {
        let folder = try workspace(runbooks)
        defer { try? FileManager.default.removeItem(at: folder) }
        let markdown = folder.appendingPathComponent("handoff.md").path
        try special.make(at: markdown)
        let before = SpecialFile.type(at: markdown)
        let run = await diagnose(["report", "--output", "handoff.md", "--force"], in: folder)
        #expect(run.status == 73, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                "error: 'handoff.md' is \(special.kind)"), "\(run.stderr)")
        #expect(run.stderr.contains("not a regular file; only a regular file is replaced, and nothing was written"))
        #expect(run.stderr.contains("choose another --output"))
        #expect(SpecialFile.type(at: markdown) == before)
        // Nothing written: no JSON half, no temporary file.
        let expected = special == .linkToDevice ? ["handoff.md", "handoff.md.device"] : ["handoff.md"]
        #expect(try names(in: folder) == expected)
    }

    @Test(arguments: [SpecialFile.folder, .fifo, .characterDevice])
    func aRefusedJSONHalfLeavesTheMarkdownAsItWas(_ special: SpecialFile) async throws {
        let folder = try workspace(runbooks)
        defer { try? FileManager.default.removeItem(at: folder) }
        try special.make(at: folder.appendingPathComponent("old.json").path)
        try special.make(at: folder.appendingPathComponent("new.json").path)
        try plant("keep me\n", at: "old.md", in: folder)

        let over = await diagnose(["report", "--output", "old.md", "--force"], in: folder)
        #expect(over.status == 73, "\(over.stderr)")
        #expect(over.stderr.contains("'old.json' is \(special.kind)"))
        #expect(try String(contentsOf: folder.appendingPathComponent("old.md"), encoding: .utf8) == "keep me\n")
        let fresh = await diagnose(["report", "--output", "new.md", "--force"], in: folder)
        #expect(fresh.status == 73, "\(fresh.stderr)")
        #expect(try names(in: folder) == ["new.json", "old.json", "old.md"])
    }

    @Test func runOutputRefusesADeviceAndSaysHowToWriteToStandardOutput() async throws {
        let folder = try workspace(runbooks)
        defer { try? FileManager.default.removeItem(at: folder) }
        let device = folder.appendingPathComponent("null").path
        try SpecialFile.characterDevice.make(at: device)
        let run = await diagnose(["green", "--format", "json", "--output", "null"], in: folder)
        #expect(run.status == 73, "\(run.stderr)")
        #expect(run.stderr.contains("'null' is a character device, not a regular file"))
        #expect(SpecialFile.type(at: device) == S_IFCHR)
        let report = await diagnose(["report", "--output", "/dev/stdout", "--force"], in: folder)
        #expect(report.status == 73)
        #expect(report.stderr.contains("'/dev/stdout' is a symbolic link to"), "\(report.stderr)")
        #expect(report.stderr.contains("--output - writes to standard output"))
    }

    @Test func aRegularFileAndALinkToOneAreReplaced() async throws {
        let folder = try workspace(runbooks)
        defer { try? FileManager.default.removeItem(at: folder) }
        try plant("old\n", at: "handoff.md", in: folder)
        try plant("elsewhere\n", at: "target.json", in: folder)
        #expect(symlink("target.json", folder.appendingPathComponent("handoff.json").path) == 0)
        let run = await diagnose(["report", "--output", "handoff.md", "--force"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try HandoffReport.decode(Data(contentsOf: folder.appendingPathComponent("handoff.json")))
        #expect(report.run.status == .ok)
        // The link itself is replaced; the file it pointed to is left as it was.
        #expect(SpecialFile.type(at: folder.appendingPathComponent("handoff.json").path) == S_IFREG)
        #expect(try String(contentsOf: folder.appendingPathComponent("target.json"), encoding: .utf8) == "elsewhere\n")
        #expect(try names(in: folder) == ["handoff.json", "handoff.md", "target.json"])
    }
}
