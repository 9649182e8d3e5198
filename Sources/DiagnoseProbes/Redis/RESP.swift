import DiagnoseCompose
import DiagnosePlatform

/// A value of the Redis serialization protocol, version 2 (what a server speaks until a client sends `HELLO 3`).
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR message`
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5 hello`; nil for the null bulk string `$-1`.
    case bulkString([UInt8]?)
    /// `*2 ...`; nil for the null array `*-1`.
    case array([RESPValue]?)

    /// The value as one line for a person, strings shown as text, bounded.
    public var shown: String {
        switch self {
        case .simpleString(let text): return text.truncated(to: 200)
        case .error(let message): return "(error) " + message.truncated(to: 200)
        case .integer(let value): return "(integer) \(value)"
        case .bulkString(nil), .array(nil): return "(nil)"
        case .bulkString(let bytes?): return "\"" + String(decoding: bytes, as: UTF8.self).truncated(to: 200) + "\""
        case .array(let items?):
            let shownItems = items.prefix(10).map(\.shown).joined(separator: ", ")
            return "[" + shownItems + (items.count > 10 ? ", … \(items.count - 10) more" : "") + "]"
        }
    }

    /// The text of a simple or bulk string, if the value is one.
    public var text: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}

/// Parses RESP replies from raw bytes without trusting the sizes the bytes claim.
///
/// A pure function over bytes: it never crashes on any input and never allocates more than the limits below,
/// whatever lengths or counts the input announces, so it can be fuzzed and fed anything a socket delivers.
public enum RESPParser {
    /// The outcome of parsing the start of a byte sequence.
    public enum ParseResult: Sendable, Hashable {
        /// The bytes are a valid start of a reply that is not complete yet.
        case needMoreData
        /// A complete reply and how many bytes it took.
        case value(RESPValue, consumed: Int)
        /// The bytes are not RESP, or exceed a limit; the reason says which.
        case invalid(String)
    }

    /// The largest bulk string accepted.
    public static let maxBulkLength = 1 << 20
    /// How deeply arrays may nest.
    public static let maxDepth = 8
    /// The most elements a reply may hold, counted across all its arrays.
    public static let maxElements = 10_000
    /// The longest line (simple string, error, integer or length header) accepted.
    public static let maxLineLength = 64 * 1024

    /// Parses one reply from the start of `bytes`.
    public static func parse(_ bytes: some Collection<UInt8>) -> ParseResult {
        let buffer = Array(bytes)
        var cursor = Cursor(bytes: buffer)
        switch cursor.value(depth: 0) {
        case .complete(let value): return .value(value, consumed: cursor.position)
        case .incomplete: return .needMoreData
        case .invalid(let reason): return .invalid(reason)
        }
    }

    /// Parses consecutive replies from the start of `bytes`, at most `limit` of them.
    /// Returns the complete replies, and the reason when the bytes after them are not RESP.
    public static func parseAll(_ bytes: some Collection<UInt8>, limit: Int) -> (values: [RESPValue], invalid: String?)
    {
        let buffer = Array(bytes)
        var values: [RESPValue] = []
        var start = 0
        while values.count < limit, start < buffer.count {
            switch parse(buffer[start...]) {
            case .value(let value, let consumed):
                values.append(value)
                start += consumed
            case .needMoreData: return (values, nil)
            case .invalid(let reason): return (values, reason)
            }
        }
        return (values, nil)
    }

    enum Step {
        case complete(RESPValue)
        case incomplete
        case invalid(String)
    }

    struct Cursor {
        let bytes: [UInt8]
        var position = 0
        var elements = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func value(depth: Int) -> Step {
            guard position < bytes.count else { return .incomplete }
            let marker = bytes[position]
            position += 1
            switch marker {
            case UInt8(ascii: "+"):
                return line().map { .simpleString(String(decoding: $0, as: UTF8.self)) }
            case UInt8(ascii: "-"):
                return line().map { .error(String(decoding: $0, as: UTF8.self)) }
            case UInt8(ascii: ":"):
                switch number() {
                case .complete(let value): return .complete(.integer(value))
                case .incomplete: return .incomplete
                case .invalid(let reason): return .invalid(reason)
                }
            case UInt8(ascii: "$"):
                return bulkString()
            case UInt8(ascii: "*"):
                return array(depth: depth)
            default:
                return .invalid("a reply cannot start with byte 0x\(String(marker, radix: 16))")
            }
        }

        mutating func bulkString() -> Step {
            let length: Int64
            switch number() {
            case .complete(let value): length = value
            case .incomplete: return .incomplete
            case .invalid(let reason): return .invalid(reason)
            }
            if length == -1 { return .complete(.bulkString(nil)) }
            guard length >= 0 else { return .invalid("negative bulk string length \(length)") }
            guard length <= RESPParser.maxBulkLength else {
                return .invalid("bulk string of \(length) bytes exceeds the limit of \(RESPParser.maxBulkLength)")
            }
            let count = Int(length)
            guard bytes.count - position >= count + 2 else { return .incomplete }
            let body = Array(bytes[position..<position + count])
            position += count
            guard bytes[position] == UInt8(ascii: "\r"), bytes[position + 1] == UInt8(ascii: "\n") else {
                return .invalid("bulk string is not followed by CRLF")
            }
            position += 2
            return .complete(.bulkString(body))
        }

        mutating func array(depth: Int) -> Step {
            let declared: Int64
            switch number() {
            case .complete(let value): declared = value
            case .incomplete: return .incomplete
            case .invalid(let reason): return .invalid(reason)
            }
            if declared == -1 { return .complete(.array(nil)) }
            guard declared >= 0 else { return .invalid("negative array length \(declared)") }
            guard depth < RESPParser.maxDepth else { return .invalid("arrays nest deeper than \(RESPParser.maxDepth)") }
            guard declared <= Int64(RESPParser.maxElements - elements) else {
                return .invalid("reply holds more than \(RESPParser.maxElements) elements")
            }
            elements += Int(declared)
            // Grows as elements arrive, never to the size the header claims.
            var items: [RESPValue] = []
            for _ in 0..<Int(declared) {
                switch value(depth: depth + 1) {
                case .complete(let item): items.append(item)
                case .incomplete: return .incomplete
                case .invalid(let reason): return .invalid(reason)
                }
            }
            return .complete(.array(items))
        }

        enum Line {
            case complete(ArraySlice<UInt8>)
            case incomplete
            case invalid(String)

            func map(_ transform: (ArraySlice<UInt8>) -> RESPValue) -> Step {
                switch self {
                case .complete(let bytes): return .complete(transform(bytes))
                case .incomplete: return .incomplete
                case .invalid(let reason): return .invalid(reason)
                }
            }
        }

        /// The bytes up to CRLF, which it consumes; a bare CR or LF inside a line is invalid.
        mutating func line() -> Line {
            var index = position
            let end = min(bytes.count, position + RESPParser.maxLineLength + 2)
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\r") {
                    guard index + 1 < bytes.count else { return .incomplete }
                    guard bytes[index + 1] == UInt8(ascii: "\n") else { return .invalid("CR without LF in a line") }
                    let content = bytes[position..<index]
                    position = index + 2
                    return .complete(content)
                }
                if byte == UInt8(ascii: "\n") { return .invalid("LF without CR in a line") }
                index += 1
            }
            if end - position > RESPParser.maxLineLength {
                return .invalid("line longer than \(RESPParser.maxLineLength) bytes")
            }
            return .incomplete
        }

        enum Number {
            case complete(Int64)
            case incomplete
            case invalid(String)
        }

        /// A signed decimal integer line.
        mutating func number() -> Number {
            let text: ArraySlice<UInt8>
            switch line() {
            case .complete(let bytes): text = bytes
            case .incomplete: return .incomplete
            case .invalid(let reason): return .invalid(reason)
            }
            let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text
            guard !digits.isEmpty, digits.count <= 19,
                digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int64(String(decoding: text, as: UTF8.self))
            else {
                return .invalid("'\(String(decoding: text.prefix(40), as: UTF8.self))' is not an integer")
            }
            return .complete(value)
        }
    }
}

/// Encodes a command as a RESP array of bulk strings, as clients send it.
public func respCommand(_ words: [String]) -> [UInt8] {
    var bytes = Array("*\(words.count)\r\n".utf8)
    for word in words {
        let utf8 = Array(word.utf8)
        bytes += Array("$\(utf8.count)\r\n".utf8)
        bytes += utf8
        bytes += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }
    return bytes
}
