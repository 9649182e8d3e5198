// swift-tools-version:6.2
// libFuzzer targets over the core's parsers. Built only by scripts/fuzz.sh, with the fuzzer and address
// sanitizers on every target (Yams and its C part included); without `-sanitize=fuzzer` they do not link.
import PackageDescription

let package = Package(
    name: "diagnose-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "diagnose", path: "..")],
    targets: [.target(name: "CFuzzerDriver")]
        + ["FuzzRunbook", "FuzzEnvFile", "FuzzRESP"].map { name in
            .executableTarget(
                name: name,
                dependencies: ["CFuzzerDriver", .product(name: "DiagnoseCore", package: "diagnose")]
            )
        }
)
