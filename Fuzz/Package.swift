// swift-tools-version:6.2
// libFuzzer targets over the core's parsers. Built only by scripts/fuzz.sh, with the fuzzer and address
// sanitizers on every target (Yams and its C part included); without `-sanitize=fuzzer` they do not link.
import PackageDescription

let package = Package(
    name: "diagnose-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "diagnose", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        fuzzer("FuzzRunbook", ["DiagnoseRunbook", "DiagnosePlatform"]),
        fuzzer("FuzzEnvFile", ["DiagnosePlatform"]),
        fuzzer("FuzzRESP", ["DiagnoseProbes"]),
        fuzzer("FuzzRedaction", ["DiagnoseReport", "DiagnosePlatform"]),
    ]
)

/// A fuzz target over the modules (the main package's library products) it exercises.
func fuzzer(_ name: String, _ modules: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["CFuzzerDriver"] + modules.map { .product(name: $0, package: "diagnose") }
    )
}
