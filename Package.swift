// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "diagnose",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "diagnose", targets: ["diagnose"]),
        .library(name: "DiagnoseCore", targets: ["DiagnoseCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        .executableTarget(
            name: "diagnose",
            dependencies: [
                "DiagnoseCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "DiagnoseCore",
            dependencies: ["Yams", "CCurlShim", "CProcessShim"]
        ),
        // libcurl's headers only: CCurlShim loads the library when the first request is made, not at start-up.
        .systemLibrary(
            name: "CLibCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CCurlShim", dependencies: ["CLibCurl"], linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CProcessShim"),
        .testTarget(
            name: "DiagnoseCoreTests",
            dependencies: ["DiagnoseCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DiagnoseEndToEndTests",
            dependencies: ["DiagnoseCore"]
        ),
    ]
)
