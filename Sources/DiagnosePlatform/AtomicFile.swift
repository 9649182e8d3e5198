import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files whole or not at all: into a temporary file in the same folder, flushed, then renamed into place.
public enum AtomicFile {
    /// Writes `contents` to `path`; with `overwrite` false an existing file is left alone and reported.
    ///
    /// A reader never sees a half-written file: the name appears only once every byte is on disk. Without
    /// `overwrite`, the final step is a hard link, which fails rather than replace a file created meanwhile.
    public static func write(_ contents: String, to path: String, overwrite: Bool) throws(AtomicFileError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .noFolder(folder)
        }
        if !overwrite && FileManager.default.fileExists(atPath: path) { throw .exists(path) }

        var template = Array((folder + "/." + url.lastPathComponent + ".XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw .notWritable(folder, reason: String(cString: strerror(errno))) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var finished = false
        defer {
            if !finished { unlink(temporary) }
        }

        // mkstemp creates 0600; a report is shared like any file the user creates, so honour the umask.
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .writeFailed(path, reason: reason)
            }
            written += count
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw .writeFailed(path, reason: String(cString: strerror(errno)))
        }

        if overwrite {
            guard rename(temporary, path) == 0 else {
                throw .writeFailed(path, reason: String(cString: strerror(errno)))
            }
        } else {
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw .exists(path) }
                throw .writeFailed(path, reason: String(cString: strerror(errno)))
            }
            unlink(temporary)
        }
        finished = true
    }
}

/// Why a file could not be written.
public enum AtomicFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file exists and overwriting was not asked for.
    case exists(String)
    /// The folder to write into does not exist.
    case noFolder(String)
    /// A file cannot be created in the folder (permissions, read-only file system).
    case notWritable(String, reason: String)
    /// Writing, flushing or renaming the file failed (a full disk, say).
    case writeFailed(String, reason: String)

    public var description: String {
        switch self {
        case .exists(let path): "'\(path)' already exists"
        case .noFolder(let folder): "the folder '\(folder)' does not exist"
        case .notWritable(let folder, let reason): "cannot create a file in '\(folder)': \(reason)"
        case .writeFailed(let path, let reason): "writing '\(path)' failed: \(reason)"
        }
    }
}
