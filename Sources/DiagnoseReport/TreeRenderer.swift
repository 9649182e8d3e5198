import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook

/// Draws a runbook's decision tree: as indented text, or as a Mermaid flowchart with an optional taken path.
public struct TreeRenderer: Sendable {
    /// Creates a renderer.
    public init() {}

    /// The tree as indented text, each step once; a step reached twice is referred to.
    public func text(_ runbook: Runbook) -> String {
        let safe = { (text: String) in OutputSanitizer.visible(text) }
        var out = "\(safe(runbook.id)): \(safe(runbook.title))\n"
        if !runbook.description.isEmpty { out += "  \(safe(runbook.description))\n" }
        if !runbook.inputs.isEmpty {
            out += "  inputs:\n"
            for input in runbook.inputs { out += "    \(safe(input.name)) = \(safe(input.shownTemplate))\n" }
        }
        var shown = Set<String>()
        func draw(_ id: String, indent: String, via: String) {
            if let diagnosis = runbook.diagnosis(id) {
                out +=
                    "\(indent)\(via)⇒ \(safe(diagnosis.id)) [\(diagnosis.severity.rawValue)]: \(safe(diagnosis.title))\n"
                return
            }
            guard let step = runbook.step(id) else { return }
            guard shown.insert(id).inserted else {
                out += "\(indent)\(via)→ \(safe(id)) (see above)\n"
                return
            }
            out +=
                "\(indent)\(via)\(safe(step.id)): \(safe(step.title)) [\(safe(step.probe)), \(step.timeout.shortDescription)]\n"
            for edge in step.edges {
                draw(
                    edge.target, indent: indent + "    ",
                    via: "\(edge.outcome.rawValue)\(edge.cause.map { " (\(safe($0)))" } ?? ""): ")
            }
        }
        draw(runbook.start, indent: "  ", via: "")
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
