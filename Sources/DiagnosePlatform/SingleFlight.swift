import Synchronization

/// One task per key: the first asker starts the work, and everyone who asks for the same key later awaits that
/// same task, so shared work (a probe, a `docker inspect`, a log read) runs once.
package final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let tasks = Mutex<[Key: Task<Value, Never>]>([:])

    /// An empty set of tasks.
    package init() {}

    /// The value for `key`, running `work` only if nobody asked for the key before; `shared` says whether
    /// somebody had.
    package func value(
        for key: Key, _ work: @escaping @Sendable () async -> Value
    ) async -> (value: Value, shared: Bool) {
        let (task, shared) = tasks.withLock { tasks in
            if let running = tasks[key] { return (running, true) }
            let task = Task { await work() }
            tasks[key] = task
            return (task, false)
        }
        return (await task.value, shared)
    }
}
