import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook

/// Draws a runbook's decision tree: as indented text, or as a Mermaid flowchart with an optional taken path.
public struct TreeRenderer: Sendable {
    /// Creates a renderer.
    public init() {}

    /// How deep the text tree indents; deeper lines keep this indentation and start with `[depth N]`.
    public static let maximumIndentDepth = 16

    /// The tree as indented text, each step once; a step reached twice is referred to.
    public func text(_ runbook: Runbook) -> String {
        let safe = { (text: String) in OutputSanitizer.visible(text) }
        var out = "\(safe(runbook.id)): \(safe(runbook.title))\n"
        if !runbook.description.isEmpty { out += "  \(safe(runbook.description))\n" }
        if !runbook.inputs.isEmpty {
            out += "  inputs:\n"
            for input in runbook.inputs { out += "    \(safe(input.name)) = \(safe(input.shownTemplate))\n" }
        }
        // An explicit stack, not recursion (a chain of 100 000 steps would overflow the thread's stack), drawing
        // the same pre-order; past `maximumIndentDepth` the indentation stops growing and the line says its depth,
        // so the output grows linearly with the steps.
        let steps = Dictionary(runbook.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let diagnoses = Dictionary(runbook.diagnoses.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var shown = Set<String>()
        var pending: [(id: String, depth: Int, via: String)] = [(runbook.start, 0, "")]
        while let (id, depth, via) = pending.popLast() {
            var indent = "  " + String(repeating: "    ", count: min(depth, Self.maximumIndentDepth))
            if depth > Self.maximumIndentDepth { indent += "[depth \(depth)] " }
            if let diagnosis = diagnoses[id] {
                out +=
                    "\(indent)\(via)⇒ \(safe(diagnosis.id)) [\(diagnosis.severity.rawValue)]: \(safe(diagnosis.title))\n"
                continue
            }
            guard let step = steps[id] else { continue }
            guard shown.insert(id).inserted else {
                out += "\(indent)\(via)→ \(safe(id)) (see above)\n"
                continue
            }
            out +=
                "\(indent)\(via)\(safe(step.id)): \(safe(step.title)) [\(safe(step.probe)), \(step.timeout.shortDescription)]\n"
            for edge in step.edges.reversed() {
                pending.append(
                    (
                        edge.target, depth + 1,
                        "\(edge.outcome.rawValue)\(edge.cause.map { " (\(safe($0)))" } ?? ""): "
                    ))
            }
        }
        return out
    }

    /// The tree as a Mermaid flowchart; steps and edges on `taken` (step ids, then the diagnosis id) are highlighted.
    public func mermaid(_ runbook: Runbook, taken: [String] = []) -> String {
        func node(_ id: String) -> String {
            (runbook.diagnosis(id) != nil ? "d_" : "s_")
                + id.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        }
        func label(_ text: String) -> String {
            OutputSanitizer.visible(text).map { character -> String in
                switch character {
                case "\"": "#quot;"
                case "<": "#lt;"
                case ">": "#gt;"
                default: String(character)
                }
            }.joined()
        }
        var lines = ["flowchart TD"]
        for step in runbook.steps {
            lines.append("    \(node(step.id))[\"\(label(step.title))<br/><small>\(step.probe)</small>\"]")
        }
        for diagnosis in runbook.diagnoses {
            lines.append("    \(node(diagnosis.id))([\"\(diagnosis.severity.rawValue): \(label(diagnosis.title))\"])")
        }
        var edgeIndex = 0
        var takenEdges: [Int] = []
        let takenPairs = Set(zip(taken, taken.dropFirst()).map { "\($0.0)>\($0.1)" })
        for step in runbook.steps {
            for edge in step.edges {
                lines.append(
                    "    \(node(step.id)) -->|\(edge.outcome.rawValue)\(edge.cause.map { ": \($0)" } ?? "")| \(node(edge.target))"
                )
                if takenPairs.contains("\(step.id)>\(edge.target)") { takenEdges.append(edgeIndex) }
                edgeIndex += 1
            }
        }
        lines.append("    classDef ok fill:#e6f4ea,stroke:#1e8e3e")
        lines.append("    classDef warning fill:#fef7e0,stroke:#f9ab00")
        lines.append("    classDef critical fill:#fce8e6,stroke:#d93025")
        for severity in Status.declarable {
            let ids = runbook.diagnoses.filter { $0.severity == severity }.map { node($0.id) }
            if !ids.isEmpty { lines.append("    class \(ids.joined(separator: ",")) \(severity.rawValue)") }
        }
        if !taken.isEmpty {
            lines.append("    classDef taken stroke:#1a73e8,stroke-width:3px")
            lines.append("    class \(taken.map(node).joined(separator: ",")) taken")
            for index in takenEdges { lines.append("    linkStyle \(index) stroke:#1a73e8,stroke-width:3px") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
