import DiagnoseCompose
import DiagnosePlatform

/// A probe argument as written in YAML: a scalar, a list or a map.
public indirect enum ArgumentValue: Sendable, Hashable {
    /// A scalar, kept as its source text.
    case scalar(String)
    /// A sequence.
    case list([ArgumentValue])
    /// A mapping.
    case map([String: ArgumentValue])

    /// The argument with every scalar transformed.
    public func mapScalars(_ transform: (String) throws -> String) rethrows -> ArgumentValue {
        switch self {
        case .scalar(let text): .scalar(try transform(text))
        case .list(let items): .list(try items.map { try $0.mapScalars(transform) })
        case .map(let entries): .map(try entries.mapValues { try $0.mapScalars(transform) })
        }
    }

    /// Every scalar in the argument, depth first.
    public var scalars: [String] {
        switch self {
        case .scalar(let text): [text]
        case .list(let items): items.flatMap(\.scalars)
        case .map(let entries): entries.keys.sorted().flatMap { entries[$0]!.scalars }
        }
    }

    /// A stable text form, used to tell identical probes apart.
    public var canonical: String {
        switch self {
        case .scalar(let text): String(reflecting: text)
        case .list(let items): "[" + items.map(\.canonical).joined(separator: ",") + "]"
        case .map(let entries):
            "{"
                + entries.keys.sorted().map { "\(String(reflecting: $0)):\(entries[$0]!.canonical)" }
                .joined(separator: ",") + "}"
        }
    }
}
