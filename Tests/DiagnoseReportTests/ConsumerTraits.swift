import DiagnoseTestSupport
import Testing

/// Skips a test that needs a program, saying which and how scripts/setup.sh installs it.
func needs(_ program: String, from package: String) -> ConditionTrait {
    .enabled(
        if: isInstalled(program),
        "\(program) is not installed; scripts/setup.sh installs it (apt-get install \(package))")
}
