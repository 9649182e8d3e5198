import DiagnosePlatform
import DiagnoseProbes
import DiagnoseRunbook
import Foundation

/// Renders the rounds of `diagnose --watch`: on a terminal one compact screen redrawn each round (`screen`), elsewhere
/// one line for each round that changed something (`changes`), so that a log holds only the news.
public struct WatchRenderer: Sendable {
    /// How often the rounds start, for the screen's header.
    public var interval: Duration
    /// Whether to use ANSI colour (the screen only).
    public var colour: Bool

    /// Moves the cursor home and clears the screen: the start of each redrawn screen.
    public static let clearScreen = "\u{1B}[H\u{1B}[2J"

    /// Creates a renderer.
    public init(interval: Duration, colour: Bool = false) {
        self.interval = interval
        self.colour = colour
    }

    /// The whole screen: the clear sequence, a header, a line per runbook, and what changed since the last round.
    public func screen(_ round: WatchRound) -> String {
        let text = TextRenderer(colour: colour)
        let run = round.run
        var out = Self.clearScreen
        out +=
            "diagnose --watch \(interval.shortDescription) · round \(round.number) · "
            + "\(run.startedAt.formattedUTC("HH:mm:ss")) UTC · \(text.label(run.status)) (exit \(run.exitStatus.rawValue))"
            + " · Ctrl-C to stop\n"
        let width = run.runbooks.map(\.id.count).max() ?? 0
        for runbook in run.runbooks {
            let mark = text.mark(runbook.status == .ok ? .pass : runbook.status == .unknown ? .error : .fail)
            let id = runbook.id.padding(toLength: width, withPad: " ", startingAt: 0)
            out +=
                "  \(mark) \(id)  \(text.label(runbook.status))  \(runbook.diagnosis.title)  [\(runbook.diagnosis.id)]\n"
        }
        for (heading, entries) in sections(round) where !entries.isEmpty {
            out += "\(heading): \(entries.joined(separator: ", "))\n"
        }
        return out
    }

    /// One line saying what the round changed, or nil when it changed nothing.
    public func changes(_ round: WatchRound) -> String? {
        guard round.hasNews else { return nil }
        let run = round.run
        var status = run.status.rawValue.uppercased()
        if let previous = round.previousStatus, previous != run.status {
            status = "\(previous.rawValue.uppercased()) → \(status)"
        }
        var parts = [
            "round \(round.number) at \(run.startedAt.formattedUTC("HH:mm:ss'Z'")): \(status) (exit \(run.exitStatus.rawValue))"
        ]
        let sections = sections(round).filter { !$0.entries.isEmpty }
        parts += sections.map { "\($0.heading): \($0.entries.joined(separator: ", "))" }
        if round.changes == nil && sections.isEmpty { parts.append("no problems found") }
        return parts.joined(separator: "; ") + "\n"
    }

    /// The findings to name: all of them on the first round; new, resolved, still open and not re-checked after;
    /// then the runbooks that could not conclude, which are no findings.
    func sections(_ round: WatchRound) -> [(heading: String, entries: [String])] {
        let inconclusive = (
            "could not conclude",
            round.run.runbooks.filter { $0.status == .unknown }.map { "\($0.id) (\($0.diagnosis.id))" }
        )
        guard let changes = round.changes else {
            return [("open", HandoffReport.findings(of: round.run).map { "\($0.key) (\($0.title))" }), inconclusive]
        }
        func names(_ entries: [HandoffReport.Changes.Entry]) -> [String] {
            entries.map { entry in
                let moved = entry.previousSeverity.flatMap { $0 == entry.severity ? nil : $0 }
                return "\(entry.key) (\(entry.title)\(moved.map { ", was \($0.rawValue)" } ?? ""))"
            }
        }
        return [
            ("new", names(changes.new)), ("resolved", names(changes.resolved)),
            ("still open", names(changes.stillOpen)),
            ("not re-checked", names(changes.notRechecked)), inconclusive,
        ]
    }
}
