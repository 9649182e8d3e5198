import Foundation
import Synchronization

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT caught for as long as the trap lives, all alike: each runs the handler of the
/// moment (stop a run, wake a sleeping watch) and is remembered, so that a signal arriving between two phases is not
/// lost. From the first one on, SIGPIPE is ignored: after a hang-up (a dropped SSH session) standard output may be a
/// closed pipe or a hung-up terminal, and printing the partial result must fail quietly (EPIPE, EIO), not kill the
/// process before it exits with its status.
final class SignalTrap: @unchecked Sendable {
    // The dispatch sources are created and cancelled by the owner only; the handler and the flag are locked.
    private var sources: [DispatchSourceSignal] = []
    private let handler = Mutex<(@Sendable () -> Void)?>(nil)
    private let caught = Atomic<Bool>(false)

    /// The signals caught.
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Starts catching the signals instead of dying of them.
    init() {
        sources = Self.signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                signal(SIGPIPE, SIG_IGN)
                caught.store(true, ordering: .sequentiallyConsistent)
                handler.withLock { $0 }?()
            }
            source.resume()
            return source
        }
    }

    /// Whether a signal came.
    var hasFired: Bool { caught.load(ordering: .sequentiallyConsistent) }

    /// Sets what a signal does from now on; if one came already, does it at once.
    func onSignal(_ body: @escaping @Sendable () -> Void) {
        handler.withLock { $0 = body }
        if hasFired { body() }
    }

    /// Sleeps for `duration`, or until a signal; says whether a signal ended it.
    func sleep(for duration: Duration) async -> Bool {
        let wake = OneShot<Bool>()
        onSignal { wake.deliver(true) }
        let timer = Task {
            try? await Task.sleep(for: duration)
            wake.deliver(false)
        }
        let signalled = await wake.value()
        timer.cancel()
        return signalled
    }

    /// Stops catching (the signals stay ignored: the process is about to report and exit).
    func end() {
        sources.forEach { $0.cancel() }
        handler.withLock { $0 = nil }
    }
}
