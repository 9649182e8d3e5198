import DiagnoseCompose
import DiagnosePlatform
import DiagnoseProbes
import DiagnoseReport
import DiagnoseRunbook
import Synchronization

/// A value delivered once by whichever racer comes first; later deliveries are ignored.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, Never>?
        var value: Value?
    }

    private let state = Mutex(State())

    init() {}

    /// Delivers the value if none was delivered yet; later deliveries are ignored.
    func deliver(_ value: Value) {
        let waiting: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume(returning: value)
    }

    /// Waits for the first delivered value.
    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready: Value? = state.withLock { state in
                if let value = state.value { return value }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
