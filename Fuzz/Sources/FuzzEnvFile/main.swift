import CFuzzerDriver
import DiagnosePlatform
import Foundation

/// One fuzz input: any bytes, read as text, either parse as a dotenv file or give a line-numbered error.
func fuzzEnvFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lineCount = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.count
    do {
        let file = try EnvFile(parsing: text)
        for (name, _) in file.values where name.isEmpty { fatalError("an empty variable name was accepted") }
    } catch {
        if error.line < 1 || error.line > lineCount { fatalError("error on line \(error.line) of \(lineCount)") }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzzEnvFile($0, size) } ?? 0 })
