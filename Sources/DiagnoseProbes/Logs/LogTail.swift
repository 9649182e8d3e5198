import CProcessShim
import DiagnoseCompose
import DiagnosePlatform

#if canImport(Glibc)
    import Glibc
#endif

/// The last lines of a text, as bytes; a file is read from its end so cost follows the lines asked for.
public struct LogTail: Sendable, Hashable {
    /// The last lines, newline-separated, as read.
    public var bytes: [UInt8]
    /// Bytes of the source scanned to find the lines (each is then read once more into `bytes`).
    public var bytesRead: Int
    /// The source's size in bytes.
    public var sourceSize: Int
    /// Whether fewer lines than asked were kept because they exceeded the byte limit.
    public var cutByLimit: Bool

    /// The most bytes kept, whatever the number of lines.
    public static let byteLimit = 64 << 20

    /// Why a file could not be read.
    public struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The path.
        public var path: String
        /// The errno.
        public var code: Int32
        public var description: String { "\(path): \(String(cString: strerror(code)))" }
    }

    /// The last `lines` lines of bytes already in memory.
    public init(of data: [UInt8], lines: Int) {
        let start = data.withUnsafeBytes { Self.startOfLastLines(lines, in: $0) } ?? 0
        bytes = Array(data[start...])
        bytesRead = data.count
        sourceSize = data.count
        cutByLimit = false
    }

    /// The last `lines` lines of a program's output, captured keeping its end (`ProcessRunner.run(keepingEnd:)`).
    public init(ofEnd result: ProcessResult, lines: Int) {
        self.init(of: Array(result.stdout.utf8), lines: lines)
        sourceSize = result.stdoutBytes
        cutByLimit = result.stdoutBytes > result.captureLimit && bytes.count == result.stdout.utf8.count
    }

    /// The last `lines` lines of the file: blocks are read backwards from its end into one scratch buffer until
    /// enough newlines are found, then the lines are read once into a buffer of their exact size.
    public static func read(path: String, lines: Int, blockSize: Int = 1 << 20) throws(ReadError) -> LogTail {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, code: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReadError(path: path, code: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ReadError(path: path, code: EISDIR) }
        let size = Int(info.st_size)
        let floor = max(0, size - byteLimit)

        var scratch = [UInt8](unsafeUninitializedCapacity: min(blockSize, size)) { _, count in
            count = min(blockSize, size)
        }
        var offset = size
        var found = 0
        var start: Int?
        var first = true
        while offset > floor, start == nil {
            let length = min(blockSize, offset - floor)
            offset -= length
            let failure = scratch.withUnsafeMutableBytes { buffer -> Int32 in
                let failure = readFully(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<length]), at: offset)
                guard failure == 0 else { return failure }
                var end = length
                // A trailing newline ends the last line rather than starting another.
                if first, buffer[length - 1] == 10 { end -= 1 }
                first = false
                while found < lines, end > 0, let hit = cprocess_memrchr(buffer.baseAddress!, 10, end) {
                    end = UnsafeRawPointer(hit) - UnsafeRawPointer(buffer.baseAddress!)
                    found += 1
                    if found == lines { start = offset + end + 1 }
                }
                return 0
            }
            guard failure == 0 else { throw ReadError(path: path, code: failure) }
        }
        let from = start ?? offset
        let count = size - from
        var bytes = [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        let failure = bytes.withUnsafeMutableBytes { readFully(fd, into: $0, at: from) }
        guard failure == 0 else { throw ReadError(path: path, code: failure) }
        return LogTail(bytes: bytes, bytesRead: size - offset, sourceSize: size, cutByLimit: start == nil && floor > 0)
    }

    /// Fills the buffer from the file at this offset; 0, or the errno of the failure.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int32 {
        var filled = 0
        while filled < buffer.count {
            let count = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset + filled))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count < 0 ? errno : EIO }
            filled += count
        }
        return 0
    }

    init(bytes: [UInt8], bytesRead: Int, sourceSize: Int, cutByLimit: Bool) {
        self.bytes = bytes
        self.bytesRead = bytesRead
        self.sourceSize = sourceSize
        self.cutByLimit = cutByLimit
    }

    /// Where the last `lines` lines start, or nil when the buffer holds fewer.
    static func startOfLastLines(_ lines: Int, in buffer: UnsafeRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return nil }
        var end = buffer.count
        if buffer[end - 1] == 10 { end -= 1 }
        var found = 0
        while end > 0, let hit = cprocess_memrchr(base, 10, end) {
            end = hit - base
            found += 1
            if found == lines { return end + 1 }
        }
        return nil
    }
}
