import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct AtomicFileTests {
    func files(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test func writesTheFileAndLeavesNoTemporaryFile() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report.md").path
        try AtomicFile.write("# Report\n", to: path, overwrite: false)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "# Report\n")
        #expect(try files(in: folder) == ["report.md"])
    }

    @Test func refusesToReplaceAFileUnlessAskedTo() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report.md").path
        try AtomicFile.write("first\n", to: path, overwrite: false)
        #expect(throws: AtomicFileError.exists(path)) { try AtomicFile.write("second\n", to: path, overwrite: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\n")
        try AtomicFile.write("second\n", to: path, overwrite: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        #expect(try files(in: folder) == ["report.md"])
    }

    @Test func aMissingFolderIsReported() {
        #expect(throws: AtomicFileError.noFolder("/nonexistent-diagnose")) {
            try AtomicFile.write("x", to: "/nonexistent-diagnose/report.md", overwrite: false)
        }
    }

    @Test func theFileHonoursTheUmask() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report.md").path
        try AtomicFile.write("x", to: path, overwrite: false)
        let mask = umask(0)
        umask(mask)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == Int(0o666 & ~mask))
    }
}
