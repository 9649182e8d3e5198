import DiagnoseTestSupport
import Testing

/// Skips a test that needs a program, saying which and how scripts/setup.sh installs it.
func needs(_ program: String, from package: String) -> ConditionTrait {
    .enabled(
        if: isInstalled(program),
        "\(program) is not installed; scripts/setup.sh installs it (apt-get install \(package))")
}

/// Skips a test that validates against the published JSON Schemas when python3-jsonschema is missing.
let needsJSONSchema = ConditionTrait.enabled(
    if: hasJSONSchema,
    "python3's jsonschema is not installed; scripts/setup.sh installs it (apt-get install python3-jsonschema)")
