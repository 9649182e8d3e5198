import DiagnosePlatform
import Foundation
import Testing

/// `make install-files` (what `make install` does once the release binary and the man page are built) into a
/// temporary prefix, then the installed binary, man page and completions used from another folder.
@Suite(.serialized) struct InstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let manPage = root.appendingPathComponent(".build/plugins/GenerateManual/outputs/diagnose/diagnose.1")

    func run(_ argv: [String], in folder: URL? = nil, environment: [String: String] = [:]) async -> ProcessResult {
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "DIAGNOSE_RUNBOOKS")
        for (name, value) in environment { merged[name] = value }
        return await ProcessRunner.run(
            argv, environment: merged, workingDirectory: folder?.path, timeout: .seconds(120),
            mergingStandardError: true)
    }

    @Test func theInstalledBinaryFindsItsRunbooksManPageAndCompletions() async throws {
        try #require(
            FileManager.default.fileExists(atPath: Self.manPage.path),
            "the man page is not generated: run `make man` (make test does) before swift test")
        let prefix = try temporaryFolder()
        let elsewhere = try temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: prefix)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let install = await run(
            ["make", "-s", "install-files", "PREFIX=\(prefix.path)", "BIN=\(diagnoseBinary)"], in: Self.root)
        #expect(install.exitStatus == 0, "\(install.stdout)")

        // The shipped runbooks, from a folder that has none: a marker added to the installed folder proves which.
        let installed = prefix.appendingPathComponent("share/diagnose/runbooks")
        try commandRunbook("true").write(
            to: installed.appendingPathComponent("installed-marker.yml"), atomically: true, encoding: .utf8)
        let binary = prefix.appendingPathComponent("bin/diagnose").path
        let list = await run([binary, "list"], in: elsewhere)
        #expect(list.exitStatus == 0, "\(list.stdout)")
        #expect(list.stdout.contains("backend-wont-start"))
        #expect(list.stdout.contains("installed-marker"))
        let all = await run([binary, "--all", "--format", "nagios", "--deadline", "5s"], in: elsewhere)
        #expect(all.stdout.contains("runbooks=6 "), "\(all.stdout)")

        let version = await run([binary, "--version"])
        #expect(version.stdout.trimmingWhitespace() == Self.sourceVersion())

        let man = await run(
            ["man", "-w", "diagnose"], environment: ["MANPATH": prefix.appendingPathComponent("share/man").path])
        #expect(man.stdout.trimmingWhitespace() == prefix.appendingPathComponent("share/man/man1/diagnose.1").path)
        let page = await run(
            ["man", "-P", "cat", "diagnose"],
            environment: ["MANPATH": prefix.appendingPathComponent("share/man").path, "MANWIDTH": "100"])
        #expect(page.stdout.contains("render"), "\(page.stdout.prefix(400))")

        let completion = prefix.appendingPathComponent("share/bash-completion/completions/diagnose").path
        let bash = await run(
            [
                "bash", "-c",
                "source \"$1\"; COMP_WORDS=(diagnose ''); COMP_CWORD=1; COMP_LINE='diagnose '; COMP_POINT=9; "
                    + "_diagnose; echo \"${COMPREPLY[@]}\"",
                "bash", completion,
            ], in: elsewhere)
        let words = Set(bash.stdout.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(words.isSuperset(of: ["run", "report", "render", "list", "validate", "show"]), "\(bash.stdout)")
        let zsh = try String(
            contentsOf: prefix.appendingPathComponent("share/zsh/site-functions/_diagnose"), encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef diagnose"))
        let fish = try String(
            contentsOf: prefix.appendingPathComponent("share/fish/vendor_completions.d/diagnose.fish"), encoding: .utf8)
        #expect(fish.contains("complete -c 'diagnose'") && fish.contains("render"))

        let uninstall = await run(["make", "-s", "uninstall", "PREFIX=\(prefix.path)"], in: Self.root)
        #expect(uninstall.exitStatus == 0, "\(uninstall.stdout)")
        let left = FileManager.default.enumerator(atPath: prefix.path)?.compactMap { $0 as? String } ?? []
        #expect(left.filter { !FileManager.default.isDirectory(prefix.appendingPathComponent($0)) }.isEmpty, "\(left)")
    }

    /// The version constant in Sources/diagnose/Version.swift.
    static func sourceVersion() -> String? {
        let source = try? String(
            contentsOf: root.appendingPathComponent("Sources/diagnose/Version.swift"), encoding: .utf8)
        return source?.firstMatch(of: /diagnoseVersion = "([^"]+)"/).map { String($0.1) }
    }
}

extension FileManager {
    func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
