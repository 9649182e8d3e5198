/// The views of a run: for people (`text`), for programs (`json`), for CI (`junit`) and for monitoring
/// (`prometheus`, `nagios`).
public enum RunFormat: String, Sendable, Hashable, CaseIterable {
    /// The text a person reads at a terminal.
    case text
    /// The `diagnose.run/v1` JSON contract.
    case json
    /// JUnit XML: a testsuite per runbook, a testcase per step.
    case junit
    /// The Prometheus text exposition, for node_exporter's textfile collector.
    case prometheus
    /// One Nagios/Icinga plugin status line with performance data.
    case nagios
}

extension RunReport {
    /// The report rendered in a format; `colour` and `verbose` apply to text only (machine formats never carry
    /// colour).
    public func rendered(as format: RunFormat, colour: Bool = false, verbose: Bool = false) -> String {
        switch format {
        case .text: TextRenderer(colour: colour, verbose: verbose).render(self)
        case .json: json() + "\n"
        case .junit: JUnitRenderer().render(self)
        case .prometheus: PrometheusRenderer().render(self)
        case .nagios: NagiosRenderer().render(self)
        }
    }
}
