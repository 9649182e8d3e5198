import CProcessShim
import DiagnosePlatform

#if canImport(Glibc)
    import Glibc
#endif

/// A search of the last lines of a file, done while the file is read backwards, block by block, into one reused
/// buffer: the lines are never gathered in memory, so the cost is one read of the window and the search itself,
/// as for `tail -n N FILE | grep` (BENCHMARKS.md, figure 4).
///
/// Each block is cut after its first newline, and the partial line before the cut is read again as the end of the
/// next block, so every line is searched whole and once. A line longer than a block makes the next block longer.
struct LogFileSearch {
    /// What the search found.
    struct Found {
        /// The matching lines, as byte ranges of the file (without the newline), in order.
        var matches: [Range<Int>]
        /// Where the searched window starts in the file.
        var windowStart: Int
        /// The file's size.
        var size: Int
        /// Bytes of the file scanned.
        var bytesRead: Int
        /// Whether fewer lines than asked were searched because they exceeded the byte limit.
        var cutByLimit: Bool
    }

    /// The most bytes of the file read around the last match for its excerpt, before it and after it: the traceback
    /// walk looks at most 2000 lines up (LogsProbe.tracebackStart) and an excerpt keeps 8 KiB.
    static let excerptReach = 1 << 20

    /// Searches the last `lines` lines of the file at `path`, at most `LogTail.byteLimit` bytes of them.
    static func search(
        path: String, lines: Int, for search: LineSearch, blockSize: Int = 1 << 20
    ) throws(LogTail.ReadError) -> (Found, excerpt: Excerpt?) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LogTail.ReadError(path: path, code: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LogTail.ReadError(path: path, code: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw LogTail.ReadError(path: path, code: EISDIR) }
        let size = Int(info.st_size)
        let floor = max(0, size - LogTail.byteLimit)

        var scratch: [UInt8] = []
        var batches: [[Range<Int>]] = []
        // The end of what is left to read; a trailing newline ends the last line rather than starting another.
        var end = size
        var last: UInt8 = 0
        if size > 0, pread(fd, &last, 1, off_t(size - 1)) == 1, last == 10 { end -= 1 }
        var counted = 0
        var windowStart: Int?
        var lowest = size
        var reachedFloor = false
        var want = blockSize
        while end > floor, windowStart == nil {
            let length = min(want, end - floor)
            let offset = end - length
            if scratch.count < length { scratch = [UInt8](repeating: 0, count: length) }
            let step = scratch.withUnsafeMutableBytes { whole -> (failure: Int32, cut: Int?, start: Int?) in
                let buffer = UnsafeMutableRawBufferPointer(rebasing: whole[..<length])
                let failure = LogTail.readFully(fd, into: buffer, at: offset)
                guard failure == 0 else { return (failure, nil, nil) }
                let base = UnsafeRawPointer(buffer.baseAddress!)
                // Lines wholly in this block start after its first newline, unless the block starts the window.
                var cut = 0
                if offset > floor {
                    guard let newline = memchr(base, 10, length) else { return (0, nil, nil) }
                    cut = UnsafeRawPointer(newline) - base + 1
                }
                // Count line starts from the end down to the cut; the `lines`-th one starts the window.
                var scan = length
                var start: Int?
                while counted < lines, scan > cut, let hit = cprocess_memrchr(base + cut, 10, scan - cut) {
                    scan = UnsafeRawPointer(hit) - base
                    counted += 1
                    if counted == lines { start = scan + 1 }
                }
                // Reaching the cut without the last line start: the line at the cut starts the window if the
                // block is the first of the window; otherwise it is counted once its own start is seen.
                let from = start ?? cut
                let region = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[from..<length])
                let found = search.matchingLines(in: region)
                if !found.isEmpty {
                    batches.append(found.map { ($0.lowerBound + offset + from)..<($0.upperBound + offset + from) })
                }
                return (0, cut, start)
            }
            guard step.failure == 0 else { throw LogTail.ReadError(path: path, code: step.failure) }
            guard let cut = step.cut else {
                // No newline in the whole block: one line longer than the block. Read a longer block.
                want = length * 2
                continue
            }
            lowest = offset
            want = blockSize
            if let start = step.start {
                windowStart = offset + start
            } else if offset == floor {
                windowStart = offset
                reachedFloor = true
            } else {
                // The newline before the cut starts the block's first whole line: it is counted now, and the next
                // block ends just before it, with the partial line.
                counted += 1
                if counted == lines { windowStart = offset + cut }
                end = offset + cut - 1
            }
        }
        let start = windowStart ?? floor
        let matches = batches.reversed().flatMap { $0 }.filter { $0.lowerBound >= start }
        let found = Found(
            matches: matches, windowStart: start, size: size, bytesRead: size - lowest,
            cutByLimit: reachedFloor && floor > 0)
        guard let last = matches.last else { return (found, nil) }
        return (found, try excerpt(around: last, fd: fd, path: path, windowStart: start, size: size))
    }

    /// The whole lines of the file around a match.
    struct Excerpt {
        /// The lines, newline-separated.
        var bytes: [UInt8]
        /// Where they start in the file.
        var base: Int
    }

    /// The lines around a match: `excerptReach` bytes each way, within the window, cut at line ends.
    private static func excerpt(
        around match: Range<Int>, fd: Int32, path: String, windowStart: Int, size: Int
    ) throws(LogTail.ReadError) -> Excerpt {
        var from = max(windowStart, match.lowerBound - excerptReach)
        let to = min(size, match.upperBound + excerptReach)
        var bytes = [UInt8](repeating: 0, count: to - from)
        let failure = bytes.withUnsafeMutableBytes { LogTail.readFully(fd, into: $0, at: from) }
        guard failure == 0 else { throw LogTail.ReadError(path: path, code: failure) }
        // Start on a line start and end on a line end.
        if from > windowStart, let newline = bytes.firstIndex(of: 10), newline < match.lowerBound - from {
            bytes.removeFirst(newline + 1)
            from += newline + 1
        }
        if to < size, let newline = bytes.lastIndex(of: 10), newline >= match.upperBound - from {
            bytes.removeLast(bytes.count - newline)
        }
        return Excerpt(bytes: bytes, base: from)
    }
}
