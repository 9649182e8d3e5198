import DiagnosePlatform
import Foundation

/// A compose project as the CLI would see it: its file, directory, env file and name.
public struct ComposeProject: Sendable, Hashable {
    /// The compose file, absolute.
    public var file: String
    /// The project directory, absolute; relative paths in the file and the default `.env` start here.
    public var directory: String
    /// The env file given with `--env-file`, absolute, if any.
    public var envFile: String?
    /// The project name: the `com.docker.compose.project` label of its containers.
    public var name: String

    /// Creates a project from already resolved parts.
    public init(file: String, directory: String, envFile: String? = nil, name: String) {
        self.file = file
        self.directory = directory
        self.envFile = envFile
        self.name = name
    }

    /// The compose CLI's global options for this project.
    public var options: [String] {
        // A COMPOSE_FILE-style list (`a.yml:b.yml`) is one -f a file, as compose reads it.
        var options = files.flatMap { ["-f", $0] } + ["--project-directory", directory]
        if let envFile { options += ["--env-file", envFile] }
        return options + ["-p", name]
    }

    /// The compose files: `file` split at `:` as compose splits COMPOSE_FILE.
    public var files: [String] { file.split(separator: ":").map(String.init) }

    /// The file compose would pick in a folder when none is named: compose.yaml, compose.yml,
    /// docker-compose.yml, docker-compose.yaml, the first that exists (else docker-compose.yml).
    public static func defaultFile(in directory: String) -> String {
        let names = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"]
        let found = names.first { FileManager.default.fileExists(atPath: directory + "/" + $0) }
        return directory + "/" + (found ?? "docker-compose.yml")
    }

    /// Resolves a project the way compose does.
    ///
    /// The directory is `directory`, else the file's folder, else the working directory. The name is `name`,
    /// else `COMPOSE_PROJECT_NAME` from the environment, else from the env file (`envFile` or the directory's
    /// `.env`), else the directory's basename; then normalized by `flavor`'s rule.
    public static func resolve(
        name: String? = nil, file: String? = nil, directory: String? = nil, envFile: String? = nil,
        environment: [String: String], workingDirectory: String, flavor: ComposeCLI.Flavor = .plugin
    ) -> ComposeProject {
        func absolute(_ path: String, from base: String) -> String {
            let joined = path.hasPrefix("/") ? path : base + "/" + path
            return URL(fileURLWithPath: joined).standardizedFileURL.path
        }
        let resolvedFile = file.map { list in
            list.split(separator: ":").map { absolute(String($0), from: workingDirectory) }.joined(separator: ":")
        }
        let resolvedDirectory =
            directory.map { absolute($0, from: workingDirectory) }
            ?? resolvedFile.map {
                URL(fileURLWithPath: String($0.prefix { $0 != ":" })).deletingLastPathComponent().path
            }
            ?? absolute(".", from: workingDirectory)
        let resolvedEnvFile = envFile.map { absolute($0, from: workingDirectory) }
        let given = [
            name, environment["COMPOSE_PROJECT_NAME"],
            projectNameInEnvFile(resolvedEnvFile ?? resolvedDirectory + "/.env"),
        ]
        .compactMap { $0?.trimmingWhitespace() }
        .first { !$0.isEmpty }
        let raw = given ?? URL(fileURLWithPath: resolvedDirectory).lastPathComponent
        let normalized = normalizedName(raw, flavor: flavor)
        return ComposeProject(
            file: resolvedFile ?? defaultFile(in: resolvedDirectory), directory: resolvedDirectory,
            envFile: resolvedEnvFile, name: normalized.isEmpty ? "default" : normalized)
    }

    /// A project name normalized as the CLI does: compose v1 (1.21 and later) lowercases and keeps `[a-z0-9_-]`;
    /// compose v2 does the same and also drops leading `-` and `_`.
    public static func normalizedName(_ raw: String, flavor: ComposeCLI.Flavor) -> String {
        let kept = String(
            raw.lowercased().unicodeScalars.filter { scalar in
                ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
            }.map(Character.init))
        switch flavor {
        case .standalone: return kept
        case .plugin: return String(kept.drop { $0 == "_" || $0 == "-" })
        }
    }

    /// `COMPOSE_PROJECT_NAME` from a dotenv file, if the file exists, parses and sets it.
    static func projectNameInEnvFile(_ path: String) -> String? {
        guard let text = TextFile.read(path), let file = try? EnvFile(parsing: text) else { return nil }
        return file.values["COMPOSE_PROJECT_NAME"]
    }
}

extension ComposeProject {
    /// The arguments every compose-backed probe accepts to name its project.
    public static let argumentNames: Set<String> = ["project", "project_dir", "file", "env_file"]

    /// The same arguments where `file` means something else (the `logs` probe's log file) and the compose file
    /// is `compose_file`.
    public static let argumentNamesBesideFile: Set<String> = ["project", "project_dir", "compose_file", "env_file"]

    /// The project named by a probe's `project`, `project_dir`, `file` and `env_file` arguments.
    public struct Selector: Sendable, Hashable {
        /// An explicit project name.
        public var name: String?
        /// The compose file.
        public var file: String?
        /// The project directory.
        public var directory: String?
        /// The env file.
        public var envFile: String?

        /// A selector from its parts.
        public init(name: String? = nil, file: String? = nil, directory: String? = nil, envFile: String? = nil) {
            self.name = name
            self.file = file
            self.directory = directory
            self.envFile = envFile
        }
    }
}
