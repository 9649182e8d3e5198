import CYaml

/// The first anchor (`&name`) or alias (`*name`) of a YAML text, found from libyaml's events before any node is
/// composed.
///
/// The runbook language has no use for anchors, aliases or merge keys (`<<: *name`), and an alias is how a few
/// hundred bytes expand to millions of nodes (the "billion laughs"): Yams composes an alias as a shared node, so the
/// cost comes later, in every walk of the tree and in hashing a mapping's keys. Scanning the events first costs
/// one pass of the parser over the text, and refuses such a file at its first anchor whatever comes after.
enum YAMLAnchors {
    /// Where the first anchor or alias starts (line and column from 1), and which it is; nil when there is none or
    /// the text does not parse (the composer then reports the syntax error at its place).
    static func first(in text: String) -> (line: Int, column: Int, name: String, isAlias: Bool)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let anchor: UnsafeMutablePointer<yaml_char_t>? =
                    switch event.type {
                    case YAML_ALIAS_EVENT: event.data.alias.anchor
                    case YAML_SCALAR_EVENT: event.data.scalar.anchor
                    case YAML_SEQUENCE_START_EVENT: event.data.sequence_start.anchor
                    case YAML_MAPPING_START_EVENT: event.data.mapping_start.anchor
                    default: nil
                    }
                if let anchor {
                    let name = String(cString: UnsafeRawPointer(anchor).assumingMemoryBound(to: CChar.self))
                    return (
                        Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1, name,
                        event.type == YAML_ALIAS_EVENT
                    )
                }
                if event.type == YAML_STREAM_END_EVENT { return nil }
            }
        }
    }
}
