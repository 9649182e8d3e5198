import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Who is running diagnose, for the report's "Run by".
public enum CurrentUser {
    /// The person: `SUDO_USER` (who is behind `sudo`), `LOGNAME`, `USER`, then the password database's name for the
    /// effective user id, then `uid N` when even that has none. Empty variables are skipped.
    public static func name(
        environment: [String: String], passwordName: (uid_t) -> String? = passwordName(of:), uid: uid_t = geteuid()
    ) -> String {
        for variable in ["SUDO_USER", "LOGNAME", "USER"] {
            if let value = environment[variable]?.trimmingWhitespace(), !value.isEmpty { return value }
        }
        return passwordName(uid) ?? "uid \(uid)"
    }

    /// The password database's login name for a user id (`getpwuid_r`), nil when it has no entry.
    public static func passwordName(of uid: uid_t) -> String? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let name = entry.pw_name
        else { return nil }
        let text = String(cString: name)
        return text.isEmpty ? nil : text
    }
}
