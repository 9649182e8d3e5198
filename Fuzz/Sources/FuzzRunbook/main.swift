import CFuzzerDriver
import DiagnosePlatform
import DiagnoseRunbook
import Foundation

/// One fuzz input: any bytes, read as text, through runbook loading and validation, then the input
/// templates through variable expansion and every text through the `{{ input }}` template parser.
func fuzzRunbook(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (runbook, findings) = RunbookLoader().parse(text, file: "fuzz.yml")
    for finding in findings where finding.location.line < 1 || finding.location.column < 1 {
        fatalError("finding without a location: \(finding)")
    }
    if runbook == nil && findings.isEmpty { fatalError("no runbook and no finding") }
    exercise(text)
    guard let runbook else { return 0 }
    let lookup: (String) -> String? = { $0.count.isMultiple(of: 2) ? "value-of-\($0)" : nil }
    for input in runbook.inputs { exercise(input.template, lookup: lookup) }
    _ = try? runbook.resolveInputs(InputSources(overrides: [:], environment: [:], envFile: ["HOME": "/root"]))
    let inputs = Dictionary(runbook.inputs.map { ($0.name, $0.template) }, uniquingKeysWith: { first, _ in first })
    for step in runbook.steps {
        for argument in step.arguments.values {
            for scalar in argument.scalars { _ = Template.render(scalar, inputs) }
        }
    }
    for diagnosis in runbook.diagnoses {
        for text in [diagnosis.title, diagnosis.explain] + diagnosis.fix.map(\.command) {
            _ = Template.render(text, inputs)
        }
    }
    return 0
}

func exercise(_ text: String, lookup: (String) -> String? = { _ in nil }) {
    if let template = try? Template(text) { _ = template.rendered(["a": "1"]) + template.names.joined() }
    _ = try? VariableExpansion.expand(text, lookup: lookup)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzzRunbook($0, size) } ?? 0 })
