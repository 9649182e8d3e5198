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
        .systemLibrary(
            name: "CLibCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CCurlShim", dependencies: ["CLibCurl"]),
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
