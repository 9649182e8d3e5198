/// The outside world as a probe sees it; tests choose what is real.
public struct ProbeContext: Sendable {
    /// How long the probe may take.
    public var timeout: Duration
    /// The environment for programs the probe starts.
    public var environment: [String: String]
    /// The folder relative paths start from.
    public var workingDirectory: String
    /// Set when the run is interrupted or hits its deadline; blocking work checks it.
    public var cancellation: CancellationFlag
    /// The compose adapter every compose-backed probe of the run shares, so state is read once.
    public var compose: ComposeAdapter

    /// Creates a context; without `compose`, an adapter for this environment and folder.
    public init(
        timeout: Duration = Step.defaultTimeout, environment: [String: String], workingDirectory: String,
        cancellation: CancellationFlag = CancellationFlag(), compose: ComposeAdapter? = nil
    ) {
        self.timeout = timeout
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.cancellation = cancellation
        self.compose = compose ?? ComposeAdapter(environment: environment, workingDirectory: workingDirectory)
    }

    /// A path made absolute against the working directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory + "/" + path
    }
}
