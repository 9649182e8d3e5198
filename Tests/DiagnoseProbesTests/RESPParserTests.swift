import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseTestSupport
import Testing

/// The RESP parser on valid, truncated, oversized and random input.
@Suite struct RESPParserTests {
    func parse(_ text: String) -> RESPParser.ParseResult { RESPParser.parse(Array(text.utf8)) }

    @Test func respParserReadsEveryKindOfReply() {
        #expect(parse("+PONG\r\n") == .value(.simpleString("PONG"), consumed: 7))
        #expect(parse("-ERR no\r\nextra") == .value(.error("ERR no"), consumed: 9))
        #expect(parse(":-42\r\n") == .value(.integer(-42), consumed: 6))
        #expect(parse("$5\r\nhello\r\n") == .value(.bulkString(Array("hello".utf8)), consumed: 11))
        #expect(parse("$-1\r\n") == .value(.bulkString(nil), consumed: 5))
        #expect(parse("*-1\r\n") == .value(.array(nil), consumed: 5))
        #expect(
            parse("*2\r\n:1\r\n*1\r\n$0\r\n\r\n")
                == .value(.array([.integer(1), .array([.bulkString([])])]), consumed: 18))
    }

    @Test func respParserAsksForMoreOnEveryPrefix() {
        let reply = Array("*3\r\n+OK\r\n$3\r\nabc\r\n:7\r\n".utf8)
        for length in 0..<reply.count {
            #expect(RESPParser.parse(reply.prefix(length)) == .needMoreData, "prefix of \(length) bytes")
        }
    }

    @Test func respParserRefusesWhatExceedsItsLimits() {
        let invalid: [String] = [
            "GET / HTTP/1.1\r\n",
            "$1048577\r\n",
            "$-2\r\n",
            "*10001\r\n",
            String(repeating: "*1\r\n", count: 9) + ":1\r\n",
            ":12a\r\n",
            ":99999999999999999999\r\n",
            "+bare\nLF\r\n",
            "$3\r\nabcXY",
            "+" + String(repeating: "A", count: RESPParser.maxLineLength + 10),
        ]
        for text in invalid {
            guard case .invalid = parse(text) else {
                Issue.record("accepted \(text.prefix(40))")
                continue
            }
        }
        // Two arrays of 6000 elements together exceed the element limit without either claiming too much alone.
        let nested = "*2\r\n*6000\r\n" + String(repeating: ":1\r\n", count: 6000) + "*6000\r\n"
        guard case .invalid = parse(nested) else {
            Issue.record("accepted more than \(RESPParser.maxElements) elements")
            return
        }
    }

    @Test func respParserSurvivesRandomInput() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("+-:$*\r\n0123456789-A".utf8)
        var outcomes = (values: 0, more: 0, invalid: 0)
        for round in 0..<20_000 {
            let length = Int(generator.next() % 64)
            // Half the inputs are drawn from RESP's own bytes, to reach deep into the parser.
            let bytes = (0..<length).map { _ in
                round % 2 == 0
                    ? UInt8(truncatingIfNeeded: generator.next())
                    : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            switch RESPParser.parse(bytes) {
            case .value(_, let consumed):
                outcomes.values += 1
                #expect(consumed > 0 && consumed <= bytes.count)
            case .needMoreData: outcomes.more += 1
            case .invalid: outcomes.invalid += 1
            }
        }
        #expect(outcomes.values > 0 && outcomes.more > 0 && outcomes.invalid > 0)
    }
}

/// A small deterministic random number generator, so a failing input can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49EB_2F4D_1CEB
        return z ^ (z >> 31)
    }
}
