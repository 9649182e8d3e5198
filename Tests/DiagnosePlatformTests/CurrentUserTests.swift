import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

/// "Run by": the person behind sudo, then the login variables, then the password database.
@Suite struct CurrentUserTests {
    /// What `id -un` says: the password database read by another program.
    func idName() async -> String {
        await ProcessRunner.run(["id", "-un"], environment: [:], timeout: hangGuard).stdout.trimmingWhitespace()
    }

    @Test func aClearedEnvironmentFallsBackToThePasswordDatabase() async {
        let name = CurrentUser.name(environment: [:])
        #expect(name == (await idName()))
        #expect(!name.isEmpty && name != "unknown")
    }

    @Test func sudoUserComesFirstThenLognameThenUser() {
        let all = ["SUDO_USER": "alice", "LOGNAME": "root", "USER": "root"]
        #expect(CurrentUser.name(environment: all) == "alice")
        #expect(CurrentUser.name(environment: ["LOGNAME": "bob", "USER": "carol"]) == "bob")
        #expect(CurrentUser.name(environment: ["USER": "carol"]) == "carol")
        #expect(CurrentUser.name(environment: ["SUDO_USER": " ", "LOGNAME": "", "USER": "carol"]) == "carol")
    }

    @Test func aUserWithoutAnEntryIsNamedByItsID() {
        #expect(CurrentUser.name(environment: [:], passwordName: { _ in nil }, uid: 4242) == "uid 4242")
        #expect(CurrentUser.passwordName(of: 0) == "root")
    }
}
