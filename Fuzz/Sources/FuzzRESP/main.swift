import CFuzzerDriver
import DiagnoseProbes
import Foundation

/// One fuzz input: any bytes as a Redis reply stream. Besides not crashing, a complete reply must parse
/// the same from exactly its own bytes, and a strict prefix of it must never be a different complete reply.
func fuzzRESP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let result = RESPParser.parse(bytes)
    if case .value(let value, let consumed) = result {
        if consumed < 1 || consumed > bytes.count { fatalError("consumed \(consumed) of \(bytes.count) bytes") }
        _ = value.shown
        _ = value.text
        if RESPParser.parse(bytes[..<consumed]) != result {
            fatalError("a reply parses differently from its own bytes")
        }
        for cut in Set([consumed - 1, consumed / 2]) where cut < consumed {
            if case .value = RESPParser.parse(bytes[..<cut]) { fatalError("a prefix of a reply is a complete reply") }
        }
    }
    let (values, _) = RESPParser.parseAll(bytes, limit: 64)
    if values.count > 64 { fatalError("parseAll returned \(values.count) replies, over its limit") }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzzRESP($0, size) } ?? 0 })
