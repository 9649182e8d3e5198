import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnosePlatform

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

    /// A FIFO, a character device (`mknod c 1 3`, as root), a folder: refused, left as they were, nothing written.
    @Test func whatIsNotARegularFileIsNeverReplaced() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo").path
        let device = folder.appendingPathComponent("null").path
        let link = folder.appendingPathComponent("link").path
        let subfolder = folder.appendingPathComponent("sub").path
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0, "needs root")
        #expect(symlink(device, link) == 0)
        #expect(mkdir(subfolder, 0o755) == 0)
        let expected: [(String, String)] = [
            (fifo, "a FIFO (named pipe)"), (device, "a character device"), (subfolder, "a folder"),
            (link, "a symbolic link to a character device ('\(device)')"),
        ]
        for (path, kind) in expected {
            #expect(throws: AtomicFileError.notRegularFile(path, kind: kind)) {
                try AtomicFile.write("x", to: path, overwrite: true)
            }
        }
        #expect(AtomicFile.lstatMode(fifo) == S_IFIFO)
        #expect(AtomicFile.lstatMode(device) == S_IFCHR)
        #expect(AtomicFile.lstatMode(link) == S_IFLNK)
        #expect(try files(in: folder) == ["fifo", "link", "null", "sub"])
    }

    @Test func aPairIsWrittenWhole() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let markdown = folder.appendingPathComponent("r.md").path
        let json = folder.appendingPathComponent("r.json").path
        try "old md\n".write(toFile: markdown, atomically: false, encoding: .utf8)
        try "old json\n".write(toFile: json, atomically: false, encoding: .utf8)
        try AtomicFile.write([(markdown, "md\n"), (json, "json\n")], overwrite: true)
        #expect(try String(contentsOfFile: markdown, encoding: .utf8) == "md\n")
        #expect(try String(contentsOfFile: json, encoding: .utf8) == "json\n")
        #expect(try files(in: folder) == ["r.json", "r.md"])
    }

    /// The second target turns into a folder after the check (as another process could make it): the first file,
    /// already renamed into place, is put back as it was, or removed where there was none.
    @Test(arguments: [true, false])
    func aFailedSecondHalfPutsTheFirstBack(_ hadMarkdown: Bool) throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let markdown = folder.appendingPathComponent("r.md").path
        let json = folder.appendingPathComponent("r.json").path
        if hadMarkdown { try "old md\n".write(toFile: markdown, atomically: false, encoding: .utf8) }
        var markdownBeforeTheSecondRename: String?
        #expect(throws: AtomicFileError.notRegularFile(json, kind: "a folder")) {
            try AtomicFile.write([(markdown, "new md\n"), (json, "new json\n")], overwrite: true) { index in
                guard index == 1 else { return }
                markdownBeforeTheSecondRename = try? String(contentsOfFile: markdown, encoding: .utf8)
                mkdir(json, 0o755)
            }
        }
        // The first rename did happen, and was undone.
        #expect(markdownBeforeTheSecondRename == "new md\n")
        if hadMarkdown {
            #expect(try String(contentsOfFile: markdown, encoding: .utf8) == "old md\n")
            #expect(try files(in: folder) == ["r.json", "r.md"])
        } else {
            #expect(try files(in: folder) == ["r.json"])
        }
    }

    /// Without overwrite, a second target created meanwhile is not replaced and the first file goes again.
    @Test func aSecondTargetCreatedMeanwhileRemovesTheFirstWithoutOverwrite() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let markdown = folder.appendingPathComponent("r.md").path
        let json = folder.appendingPathComponent("r.json").path
        #expect(throws: AtomicFileError.exists(json)) {
            try AtomicFile.write([(markdown, "md\n"), (json, "json\n")], overwrite: false) { index in
                if index == 1 { try? "theirs\n".write(toFile: json, atomically: false, encoding: .utf8) }
            }
        }
        #expect(try String(contentsOfFile: json, encoding: .utf8) == "theirs\n")
        #expect(try files(in: folder) == ["r.json"])
    }
}
