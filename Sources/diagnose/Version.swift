/// The version `diagnose --version` prints. It is set here, by hand, in the commit that makes a release
/// (docs/install.md); the build stamps nothing, so every build of one commit says the same.
let diagnoseVersion = "0.9.0"
