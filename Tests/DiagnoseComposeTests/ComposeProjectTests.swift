import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@testable import DiagnoseCompose

@Suite struct ComposeProjectTests {
    @Test func nameFollowsExplicitThenEnvironmentThenEnvFileThenFolder() throws {
        let directory = try temporaryDirectory("Name_Test") + "/My.App-1"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func name(_ explicit: String? = nil, environment: [String: String] = [:]) -> String {
            ComposeProject.resolve(
                name: explicit, environment: environment, workingDirectory: directory, flavor: .standalone
            ).name
        }
        #expect(name() == "myapp-1")
        try "COMPOSE_PROJECT_NAME=FromDotEnv\n".write(toFile: directory + "/.env", atomically: true, encoding: .utf8)
        #expect(name() == "fromdotenv")
        #expect(name(environment: ["COMPOSE_PROJECT_NAME": "From_Env"]) == "from_env")
        #expect(name("Explicit", environment: ["COMPOSE_PROJECT_NAME": "From_Env"]) == "explicit")
    }

    @Test func versionsNormalizeNamesTheirOwnWay() {
        #expect(ComposeProject.normalizedName("_My Stack.v2", flavor: .standalone) == "_mystackv2")
        #expect(ComposeProject.normalizedName("_My Stack.v2", flavor: .plugin) == "mystackv2")
    }

    @Test func fileGivesTheDefaultDirectoryAndOptionsNameEverything() {
        let project = ComposeProject.resolve(
            file: "deploy/compose.yml", envFile: "prod.env", environment: [:], workingDirectory: "/srv/app")
        #expect(project.directory == "/srv/app/deploy")
        #expect(project.name == "deploy")
        #expect(
            project.options == [
                "-f", "/srv/app/deploy/compose.yml", "--project-directory", "/srv/app/deploy", "--env-file",
                "/srv/app/prod.env", "-p", "deploy",
            ])
    }

    /// The config file's `cliPluginsExtraDirs` come first, as the docker CLI looks there first.
    @Test func aPluginInTheConfigFilesExtraFolderIsTakenFirst() throws {
        let config = try temporaryDirectory("docker-config-extra")
        let extra = config + "/extra"
        try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: extra + "/docker-compose", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: extra + "/docker-compose")
        try "{\"cliPluginsExtraDirs\": [\"\(extra)\"]}".write(
            toFile: config + "/config.json", atomically: true, encoding: .utf8)
        let found = try ComposeCLI.detect(environment: ["PATH": "/usr/bin:/bin", "DOCKER_CONFIG": config]).get()
        #expect(found.flavor == .plugin)
        #expect(found.prefix == [extra + "/docker-compose"])
    }

    /// Both are installed here (scripts/setup.sh): v2 is preferred, and DIAGNOSE_COMPOSE picks either.
    @Test func detectionPrefersThePluginAndCanBeToldWhich() throws {
        let home = try temporaryDirectory("home")
        let environment = ["PATH": "/usr/bin:/bin", "HOME": home]
        let preferred = try ComposeCLI.detect(environment: environment).get()
        #expect(preferred.flavor == .plugin)
        #expect(preferred.prefix == ["/usr/local/lib/docker/cli-plugins/docker-compose"])
        let v1 = try ComposeCLI.detect(environment: environment.merging(["DIAGNOSE_COMPOSE": "v1"]) { $1 }).get()
        #expect(v1.flavor == .standalone)
        #expect(v1.prefix == ["/usr/bin/docker-compose"])
        let v2 = try ComposeCLI.detect(environment: environment.merging(["DIAGNOSE_COMPOSE": "v2"]) { $1 }).get()
        #expect(v2 == preferred)
        let noPlugin = ComposeCLI.detect(
            environment: ["PATH": "/nonexistent", "HOME": home, "DIAGNOSE_COMPOSE": "v2"])
        #expect(throws: ComposeError.self) { try noPlugin.get() }
    }
}
