import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files whole or not at all: into a temporary file in the same folder, flushed, then renamed into place.
///
/// Only a regular file is ever replaced. A character or block device, a FIFO, a socket or a folder at the path is
/// refused (`AtomicFileError.notRegularFile`), and so is a symbolic link to one of these (`--output /dev/stdout`
/// is such a link). A symbolic link to a regular file, or a dangling one, is itself replaced by the new file, as
/// `rename(2)` does: the file it pointed to is left as it was, so a planted link never redirects the write.
public enum AtomicFile {
    /// Writes `contents` to `path`; with `overwrite` false an existing file is left alone and reported.
    ///
    /// A reader never sees a half-written file: the name appears only once every byte is on disk. Without
    /// `overwrite`, the final step is a hard link, which fails rather than replace a file created meanwhile.
    public static func write(_ contents: String, to path: String, overwrite: Bool) throws(AtomicFileError) {
        try write([(path: path, contents: contents)], overwrite: overwrite)
    }

    /// Writes several files, all of them or none (a report's Markdown and JSON).
    ///
    /// Every target is checked first (its folder exists; nothing is there, or a regular file when `overwrite`),
    /// then every temporary file is written and flushed, and only then are they renamed into place in order. When
    /// a later rename fails (the target became a folder meanwhile, say), the files already renamed are put back as
    /// they were: the previous file, kept as a hard link until the end, is renamed back, or the new file is removed
    /// where there was none. So every failure this process sees leaves each path as it found it.
    ///
    /// What it cannot promise: the renames are separate system calls, so a crash, `SIGKILL` or power loss between
    /// the first and the last leaves the first files new and the others old (or absent), and may leave hidden
    /// `.NAME.XXXXXX` temporary files beside them; the folder is flushed after the renames, so once this returns
    /// the whole set survives a power loss. Another process that replaces a target between the check and the
    /// rename is seen only by the check made again just before that rename.
    public static func write(
        _ files: [(path: String, contents: String)], overwrite: Bool
    ) throws(AtomicFileError) {
        try write(files, overwrite: overwrite, beforeRename: { _ in })
    }

    /// `write(_:overwrite:)`, calling `beforeRename` with each file's index just before its final check and rename
    /// (tests use it to change a target meanwhile, as another process could).
    static func write(
        _ files: [(path: String, contents: String)], overwrite: Bool, beforeRename: (Int) -> Void
    ) throws(AtomicFileError) {
        for file in files { try check(file.path, overwrite: overwrite) }

        var temporaries: [String] = []
        var backups: [String?] = []
        var renamed = 0
        var finished = false
        defer {
            if !finished {
                // Put back what was renamed, newest first, then drop what is left over.
                for index in (0..<renamed).reversed() {
                    if let backup = backups[index] {
                        rename(backup, files[index].path)
                    } else {
                        unlink(files[index].path)
                    }
                }
                for path in temporaries + backups.compactMap({ $0 }) { unlink(path) }
            }
        }
        for file in files { temporaries.append(try temporary(file.contents, for: file.path)) }
        // A backup of each file but the last: if the last rename fails, it has replaced nothing.
        for (index, file) in files.enumerated() {
            guard overwrite, index < files.count - 1, lstatMode(file.path) != nil else {
                backups.append(nil)
                continue
            }
            let backup = temporaries[index] + ".previous"
            guard link(file.path, backup) == 0 else {
                throw .writeFailed(file.path, reason: "cannot keep the previous file: \(errorText())")
            }
            backups.append(backup)
        }
        for (index, file) in files.enumerated() {
            beforeRename(index)
            try check(file.path, overwrite: overwrite)
            if overwrite {
                guard rename(temporaries[index], file.path) == 0 else {
                    throw .writeFailed(file.path, reason: errorText())
                }
            } else {
                guard link(temporaries[index], file.path) == 0 else {
                    if errno == EEXIST { throw .exists(file.path) }
                    throw .writeFailed(file.path, reason: errorText())
                }
                unlink(temporaries[index])
            }
            renamed += 1
        }
        finished = true
        for backup in backups.compactMap({ $0 }) { unlink(backup) }
        for folder in Set(files.map { folderOf($0.path) }) {
            let descriptor = open(folder, O_RDONLY | O_DIRECTORY)
            if descriptor >= 0 {
                fsync(descriptor)
                close(descriptor)
            }
        }
    }

    /// Whether `path` may be written: its folder exists, and nothing is there, or (with `overwrite`) a regular file
    /// or a symbolic link to one. Checked by `write` too; callers check before long work so it does not end in a
    /// refusal.
    public static func check(_ path: String, overwrite: Bool) throws(AtomicFileError) {
        let folder = folderOf(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .noFolder(folder)
        }
        guard let mode = lstatMode(path) else { return }
        if mode == S_IFLNK {
            var target = stat()
            // A dangling link is replaced like a missing file.
            guard stat(path, &target) == 0 else {
                if overwrite { return }
                throw .exists(path)
            }
            let kind = target.st_mode & S_IFMT
            guard kind == S_IFREG else {
                let destination = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                throw .notRegularFile(path, kind: "a symbolic link to \(describe(kind)) ('\(destination)')")
            }
        } else if mode != S_IFREG {
            throw .notRegularFile(path, kind: describe(mode))
        }
        if !overwrite { throw .exists(path) }
    }

    /// A flushed temporary file beside `path` holding `contents`, readable as the umask allows.
    static func temporary(_ contents: String, for path: String) throws(AtomicFileError) -> String {
        let folder = folderOf(path)
        var template = Array((folder + "/." + (path as NSString).lastPathComponent + ".XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw .notWritable(folder, reason: errorText()) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
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
                let reason = errorText()
                close(descriptor)
                unlink(temporary)
                throw .writeFailed(path, reason: reason)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let reason = errorText()
            close(descriptor)
            unlink(temporary)
            throw .writeFailed(path, reason: reason)
        }
        guard close(descriptor) == 0 else {
            let reason = errorText()
            unlink(temporary)
            throw .writeFailed(path, reason: reason)
        }
        return temporary
    }

    /// The file type bits of what is at `path` itself (a link is not followed), or nil when nothing is there.
    static func lstatMode(_ path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & S_IFMT
    }

    static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFDIR: "a folder"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }

    static func folderOf(_ path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    static func errorText() -> String { String(cString: strerror(errno)) }
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
    /// Something other than a regular file is at the path (a device, a FIFO, a socket, a folder, or a symbolic
    /// link to one); it is never replaced.
    case notRegularFile(String, kind: String)

    public var description: String {
        switch self {
        case .exists(let path): "'\(path)' already exists"
        case .noFolder(let folder): "the folder '\(folder)' does not exist"
        case .notWritable(let folder, let reason): "cannot create a file in '\(folder)': \(reason)"
        case .writeFailed(let path, let reason): "writing '\(path)' failed: \(reason)"
        case .notRegularFile(let path, let kind):
            "'\(path)' is \(kind), not a regular file; only a regular file is replaced, and nothing was written"
        }
    }
}
