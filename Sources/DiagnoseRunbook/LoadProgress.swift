import Synchronization

/// Where loading the runbooks is, shared with whoever waits for it: what a run stopped by its deadline while
/// loading says it was doing.
public final class LoadProgress: Sendable {
    private let state = Mutex("starting")

    /// Creates a tracker at the start of loading.
    public init() {}

    /// What loading is doing now, e.g. `reading runbooks/a.yml (file 3 of 40)`.
    public var current: String { state.withLock { $0 } }

    /// Records what loading does next.
    public func enter(_ activity: String) { state.withLock { $0 = activity } }
}
