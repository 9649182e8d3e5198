import DiagnoseTestSupport
import Foundation

/// This target's `Fixtures` folder.
let fixtures = fixturesFolder()
