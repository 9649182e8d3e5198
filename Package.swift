// swift-tools-version:6.2
import PackageDescription

// The layers, each depending only on those below it, so the compiler refuses an arrow that points up:
// diagnose -> DiagnoseEngine -> DiagnoseReport -> DiagnoseRunbook -> DiagnoseProbes -> DiagnoseCompose
// -> DiagnosePlatform -> the C shims.
let package = Package(
    name: "diagnose",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "diagnose", targets: ["diagnose"]),
        .library(name: "DiagnoseEngine", targets: ["DiagnoseEngine"]),
        .library(name: "DiagnoseReport", targets: ["DiagnoseReport"]),
        .library(name: "DiagnoseRunbook", targets: ["DiagnoseRunbook"]),
        .library(name: "DiagnoseProbes", targets: ["DiagnoseProbes"]),
        .library(name: "DiagnoseCompose", targets: ["DiagnoseCompose"]),
        .library(name: "DiagnosePlatform", targets: ["DiagnosePlatform"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        .executableTarget(
            name: "diagnose",
            dependencies: [
                "DiagnoseEngine", "DiagnoseReport", "DiagnoseRunbook", "DiagnosePlatform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The run plan (runbooks chosen, inputs resolved, the redactor), the tree walk, deadline and probe cache.
        .target(name: "DiagnoseEngine", dependencies: ["DiagnoseReport"]),
        // The run report and its renderers: pure functions of a report.
        .target(name: "DiagnoseReport", dependencies: ["DiagnoseRunbook", "Yams"]),
        // The runbook language: model, loader with source locations, validator, templates, catalog.
        .target(name: "DiagnoseRunbook", dependencies: ["DiagnoseProbes", "Yams"]),
        // The probe protocol and one folder per kind with its protocol code.
        .target(name: "DiagnoseProbes", dependencies: ["DiagnoseCompose", "CCurlShim", "CProcessShim", "Yams"]),
        // The engine adapter: the compose project, its containers and their state, read once per run.
        .target(name: "DiagnoseCompose", dependencies: ["DiagnosePlatform", "CProcessShim"]),
        // Processes, sockets, libcurl transfers, bounded files, text helpers, redaction.
        .target(name: "DiagnosePlatform", dependencies: ["CCurlShim", "CProcessShim"]),
        // libcurl's headers only: CCurlShim loads the library when the first request is made, not at start-up.
        .systemLibrary(
            name: "CLibCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CCurlShim", dependencies: ["CLibCurl"], linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CProcessShim"),
        // Tests mirror the modules; each depends on the module it tests and the shared helpers.
        .target(
            name: "DiagnoseTestSupport",
            dependencies: ["DiagnoseEngine"],
            path: "Tests/DiagnoseTestSupport"
        ),
        .testTarget(
            name: "DiagnosePlatformTests",
            dependencies: ["DiagnosePlatform", "DiagnoseTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "DiagnoseComposeTests", dependencies: ["DiagnoseCompose", "DiagnoseTestSupport"]),
        .testTarget(
            name: "DiagnoseProbesTests",
            dependencies: ["DiagnoseProbes", "DiagnoseTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DiagnoseRunbookTests",
            dependencies: ["DiagnoseRunbook", "DiagnoseTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "DiagnoseReportTests",
            dependencies: ["DiagnoseReport", "DiagnoseTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "DiagnoseEngineTests", dependencies: ["DiagnoseEngine", "DiagnoseTestSupport"]),
        .testTarget(
            name: "DiagnoseEndToEndTests",
            dependencies: ["DiagnoseEngine"]
        ),
    ]
)
