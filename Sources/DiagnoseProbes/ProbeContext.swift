import DiagnoseCompose
import DiagnosePlatform

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
        timeout: Duration = ProbeContext.defaultTimeout, environment: [String: String], workingDirectory: String,
        cancellation: CancellationFlag = CancellationFlag(), compose: ComposeAdapter? = nil
    ) {
        self.timeout = timeout
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.cancellation = cancellation
        self.compose = compose ?? ComposeAdapter(environment: environment, workingDirectory: workingDirectory)
    }

    /// How long a probe may take when its step does not say.
    public static let defaultTimeout: Duration = .seconds(5)

    /// A path made absolute against the working directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory + "/" + path
    }
}

extension NetworkDeadline {
    /// Runs blocking network work on its own thread with a deadline `context.timeout` from now, which the
    /// context's cancellation and the calling task's cancellation both end.
    public static func offloaded<T: Sendable>(
        _ context: ProbeContext, _ work: @escaping @Sendable (NetworkDeadline) -> T
    ) async -> T {
        await offloaded(timeout: context.timeout, cancellation: context.cancellation, work)
    }
}

extension ContainerVantage {
    /// Finds the service's running container through the context's compose adapter.
    public static func locate(
        _ service: String, selector: ComposeProject.Selector, context: ProbeContext
    ) async -> Result<ContainerVantage, ComposeError> {
        await locate(
            service, selector: selector, compose: context.compose, environment: context.environment,
            cancellation: context.cancellation)
    }

    /// Where a probe given `in: SERVICE` stands: nil without a service, else inside the service's container; or,
    /// when it cannot stand there, the observation the probe reports instead.
    static func standpoint(
        _ service: String?, selector: ComposeProject.Selector, context: ProbeContext
    ) async -> (vantage: ContainerVantage?, refusal: Observation?) {
        guard let service else { return (nil, nil) }
        switch await locate(service, selector: selector, context: context) {
        case .failure(let error): return (nil, error.observation)
        case .success(let found): return (found, nil)
        }
    }
}
