/// The engine's multiplexed stream (logs and exec of a container without a TTY): frames of an 8-byte header
/// (stream 0 stdin, 1 stdout, 2 stderr; three zero bytes; a big-endian 32-bit length) and that many bytes.
/// A container with a TTY sends its output raw, on one stream.
package struct EngineStream: Sendable, Hashable {
    /// The standard output's bytes.
    package var standardOutput: [UInt8] = []
    /// The standard error's bytes.
    package var standardError: [UInt8] = []
    /// The bytes in their order of arrival, both streams together, as a terminal would show them.
    package var combined: [UInt8] = []
    /// The input ended inside a frame (a read stopped at its limit): the partial frame is kept.
    package var truncated = false

    /// Splits `bytes` into the two streams; `raw` takes them as standard output (a TTY's stream).
    package init(_ bytes: [UInt8], raw: Bool) {
        if raw {
            standardOutput = bytes
            combined = bytes
            return
        }
        var index = 0
        while index < bytes.count {
            guard bytes.count - index >= 8 else {
                truncated = true
                break
            }
            let kind = bytes[index]
            let length =
                Int(bytes[index + 4]) << 24 | Int(bytes[index + 5]) << 16 | Int(bytes[index + 6]) << 8
                | Int(bytes[index + 7])
            let start = index + 8
            let end = min(bytes.count, start + length)
            if end < start + length { truncated = true }
            let payload = bytes[start..<end]
            if kind == 2 { standardError += payload } else { standardOutput += payload }
            combined += payload
            index = start + length
        }
    }
}
