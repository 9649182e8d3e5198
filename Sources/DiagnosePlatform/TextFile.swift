import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Small configuration files (compose files, env files) read safely: regular files only (never a FIFO or a device
/// that would block), at most `limit` bytes, UTF-8.
public enum TextFile {
    /// The largest configuration file read.
    public static let defaultLimit = 4 << 20

    /// The file's text, or nil when it is not a readable regular UTF-8 file within the limit.
    public static func read(_ path: String, limit: Int = defaultLimit) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: limit + 1), data.count <= limit else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
