import CFuzzerDriver
import DiagnosePlatform
import DiagnoseReport
import Foundation

/// The secret shapes of the unit tests' corpus (`Tests/DiagnosePlatformTests/Fixtures/secret-shapes.tsv`, read where
/// it lives so that no copy drifts): the text as observed, and the secret that must not survive.
let shapes: [(text: String, secret: String)] = {
    let path =
        ProcessInfo.processInfo.environment["FUZZ_SECRET_SHAPES"]
        ?? "Tests/DiagnosePlatformTests/Fixtures/secret-shapes.tsv"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        fatalError("cannot read the secret shapes at \(path); run from the repository's root or set FUZZ_SECRET_SHAPES")
    }
    let shapes = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, String)? in
        let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
    guard shapes.count >= 40 else { fatalError("only \(shapes.count) secret shapes in \(path)") }
    return shapes
}()

/// Characters no text or Markdown output may carry raw: C0 but line feed and tab, DEL, C1, and the direction marks,
/// overrides and separators the output sanitizer shows escaped.
func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0A, 0x09: false
    case 0x00...0x1F, 0x7F...0x9F: true
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: true
    default: false
    }
}

let metadata = HandoffReport.Metadata(
    generatedAt: Date(timeIntervalSince1970: 1_795_874_610), host: "oncall-01", user: "alice",
    projectDirectory: "/srv/lab", composeProject: "lab", command: "diagnose report --all")

/// One fuzz input: pieces separated by NUL bytes become a step's summary and evidence lines, each followed by a
/// secret shape the piece's first byte picks, on a line of its own. The report is redacted as the engine redacts it
/// and rendered as text, JSON and the handoff Markdown: no planted secret and no raw control character may come out.
func fuzzRedaction(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let pieces = bytes.split(separator: 0, maxSplits: 15, omittingEmptySubsequences: false).map { piece in
        (shape: shapes[Int(piece.first ?? 0) % shapes.count], text: String(decoding: piece.dropFirst(), as: UTF8.self))
    }
    let observed = pieces.map { "\($0.text)\n\($0.shape.text)" }
    let step: [String: Any] = [
        "step": "observe", "title": "An observation", "probe": "command", "outcome": "fail", "cause": "exit-status",
        "durationMs": 1, "summary": observed[0], "evidence": Array(observed.dropFirst()), "shared": false,
    ]
    let runbook: [String: Any] = [
        "id": "fuzz", "title": "Fuzz", "status": "critical", "durationMs": 1, "inputs": ["url": observed.last!],
        "diagnosis": [
            "id": "found", "severity": "critical", "title": "Found", "explain": "An observation.",
            "fix": ["docker compose ps"], "changesStack": [String](),
        ] as [String: Any],
        "path": [step],
    ]
    let json: [String: Any] = [
        "schema": "diagnose.run/v1", "status": "critical", "startedAt": "2026-12-02T06:42:11Z", "durationMs": 1,
        "runbooks": [runbook],
    ]
    guard let encoded = try? JSONSerialization.data(withJSONObject: json),
        let report = try? RunReport.decode(encoded)
    else { fatalError("the fuzz report does not decode") }

    let run = report.redacted(by: Redactor.standard)
    let handoff = HandoffReport(run: run, metadata: metadata).redacted(by: Redactor.standard)
    let text = run.rendered(as: .text)
    let markdown = MarkdownRenderer().render(handoff, runbooks: [])
    let machine = run.rendered(as: .json)
    guard (try? JSONSerialization.jsonObject(with: Data(machine.utf8))) != nil else {
        fatalError("the JSON output does not parse")
    }
    // A secret the input itself spells out outside its shape is not a planted one.
    let input = String(decoding: bytes, as: UTF8.self)
    for (name, output) in [("text", text), ("Markdown", markdown), ("JSON", machine)] {
        for piece in pieces where output.contains(piece.shape.secret) {
            let spelled = input.components(separatedBy: piece.shape.secret).count - 1
            if spelled == 0 { fatalError("the \(name) output holds the secret of '\(piece.shape.text)'") }
        }
    }
    for (name, output) in [("text", text), ("Markdown", markdown)] {
        if let bad = output.unicodeScalars.first(where: isForbidden) {
            fatalError("the \(name) output holds a raw U+\(String(bad.value, radix: 16, uppercase: true))")
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzzRedaction($0, size) } ?? 0 })
