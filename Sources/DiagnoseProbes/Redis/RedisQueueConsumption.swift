import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Whether the messages of a Celery queue are taken, seen from the producer's side over a short window.
///
/// Celery's Redis transport (kombu) LPUSHes a message at the head of the list and its workers BRPOP from the tail,
/// so the tail is the oldest message. Without a canary the probe watches the queue's backlog: it is consumed when the
/// oldest message changes or the length drops. With a canary it LPUSHes a real Celery task (`celery.accumulate`,
/// which every Celery app registers and which does nothing but return its arguments) and waits until it is taken,
/// removing it when it is not, so nothing is left behind either way. With `canary_result: true` taken is not enough:
/// the worker must also store the canary's result (the task is sent asking for one), which the probe then deletes,
/// because a paused or stuck worker blocked in BRPOP takes a message from the list and never runs it.
///
/// Causes, fail: `not-consumed`; when the canary's LPUSH is refused, `maxmemory-reached` (OOM), `read-only-replica`
/// (READONLY), `persistence-failing` (MISCONF), `auth-required`, `auth-failed`, `error-reply`.
public struct RedisQueueConsumption: Sendable, Hashable {
    /// How often the queue is looked at, at most: the first looks come sooner (10 ms, doubling), since a healthy
    /// worker takes and runs a canary in a few milliseconds and the probe should wait no longer than that.
    static let pollInterval = Duration.milliseconds(200)

    /// The pause before the next look, after `pause`.
    static func next(after pause: Duration) -> Duration { min(pause * 2, pollInterval) }
    /// Time kept from the step's timeout for the last look and for removing a canary that was not taken.
    static let cleanupReserve = Duration.milliseconds(300)
    /// How many elements of the list a scan for the canary looks at when LPOS is unavailable (Redis before 6.0.6).
    static let scanLimit = 10_000

    /// The list Celery's producer pushes to.
    public var queue: String
    /// How long the probe waits for a message to be taken, at most.
    public var window: Duration
    /// Whether a canary task is pushed and watched instead of the queue's backlog.
    public var canary: Bool
    /// Whether the canary counts as consumed only once a worker has stored its result (`canary_result`).
    public var waitsForResult: Bool

    /// Reads `consumed_within` and `canary`; nil when `consumed_within` is not given.
    init?(_ arguments: ProbeArguments, queue: String?) throws(ProbeArgumentError) {
        let canary = try arguments.bool("canary") ?? false
        let waitsForResult = try arguments.bool("canary_result") ?? false
        if waitsForResult && !canary {
            throw ProbeArgumentError("canary_result", "needs 'canary: true': it is the canary's result that is awaited")
        }
        guard let window = try arguments.duration("consumed_within") else {
            if canary { throw ProbeArgumentError("canary", "needs 'consumed_within': how long to wait for it") }
            return nil
        }
        guard let queue else {
            throw ProbeArgumentError(
                "consumed_within", "needs 'queue': the name of the list whose messages are watched")
        }
        guard window > .zero else { throw ProbeArgumentError("consumed_within", "must be longer than 0s") }
        self.queue = queue
        self.window = window
        self.canary = canary
        self.waitsForResult = waitsForResult
    }

    /// Watches the queue over the session, which has passed `exchange`; the evidence follows the exchange's.
    func watch(_ session: RedisSession, after exchange: Observation) -> Observation {
        let clock = ContinuousClock()
        let began = clock.now
        // The last look and the canary's removal must still fit in the step's timeout.
        let end = min(began.advanced(by: window), session.deadline.end.advanced(by: .zero - Self.cleanupReserve))
        var evidence = exchange.evidence
        if began.duration(to: end) < window {
            evidence.append(
                "window: \(window.shortDescription), cut to \(Self.seconds(max(.zero, began.duration(to: end)))) by the "
                    + "step's timeout")
        }
        var watch = Watch(
            session: session, queue: queue, waitsForResult: waitsForResult, evidence: evidence, began: began, end: end)
        return canary ? watch.canary() : watch.backlog()
    }
}

/// One watch of a queue: its state and evidence as it goes.
private struct Watch {
    let session: RedisSession
    let queue: String
    let waitsForResult: Bool
    var evidence: [String]
    let began: ContinuousClock.Instant
    let end: ContinuousClock.Instant
    /// Cleared when the server answers LPOS with an error (before Redis 6.0.6, or renamed away).
    var hasPosition = true

    var elapsed: String { RedisQueueConsumption.seconds(began.duration(to: .now)) }
    var windowShown: String { RedisQueueConsumption.seconds(max(.zero, began.duration(to: end))) }

    /// Waits for the backlog's oldest message to be taken.
    mutating func backlog() -> Observation {
        let start: [RESPValue]
        switch session.call([["LLEN", queue], ["LINDEX", queue, "-1"], ["LINDEX", queue, "0"]], evidence: evidence) {
        case .ended(let observation): return observation
        case .value(let replies): start = replies
        }
        guard case .integer(let initial) = start[0] else { return failed("LLEN \(queue)", start[0]) }
        evidence.append("LLEN \(queue) at start: \(initial)")
        guard initial > 0, case .bulkString(let oldest?) = start[1], case .bulkString(let newest?) = start[2] else {
            evidence.append("watched: no, the queue is empty")
            return .pass("nothing waits in '\(queue)'", evidence: evidence)
        }
        evidence.append("oldest: \(RedisQueueConsumption.describe(oldest))")
        var length = initial
        while session.wait(RedisQueueConsumption.pollInterval, until: end) {
            let replies: [RESPValue]
            switch session.call([["LLEN", queue], ["LINDEX", queue, "-1"]], evidence: evidence) {
            case .ended(let observation): return observation
            case .value(let found): replies = found
            }
            guard case .integer(let now) = replies[0] else { return failed("LLEN \(queue)", replies[0]) }
            length = now
            let tail: [UInt8]? = if case .bulkString(let bytes?) = replies[1] { bytes } else { nil }
            if tail != oldest || now < initial {
                // The messages left of those waiting at the start lie between the newest of them and the tail.
                var taken = max(1, initial - now)
                switch position(of: newest) {
                case .ended(let observation): return observation
                case .value(let index?): taken = max(1, initial - (now - Int64(index)))
                case .value(nil): taken = initial
                }
                evidence += ["LLEN \(queue) at end: \(now)", "watched: \(elapsed) of \(windowShown)"]
                return .pass(
                    "consumed \(min(taken, initial)) of \(initial) messages waiting in '\(queue)' within \(elapsed)",
                    evidence: evidence)
            }
            if ContinuousClock.now >= end { break }
        }
        if session.deadline.isCancelled {
            return .error(
                RedisProbe.Cause.cancelled.rawValue, "the run was cancelled while watching '\(queue)'",
                evidence: evidence)
        }
        evidence += [
            "LLEN \(queue) at end: \(length)", "watched: \(elapsed) of \(windowShown)",
            "oldest unchanged for: \(elapsed)",
        ]
        return .fail(
            RedisProbe.Cause.notConsumed.rawValue,
            "none of the \(initial) messages waiting in '\(queue)' was taken within \(elapsed): nothing consumes it",
            evidence: evidence)
    }

    /// Pushes a canary task and waits until it is taken; removes it when it is not.
    mutating func canary() -> Observation {
        let id = UUID().uuidString.lowercased()
        let message = RedisQueueConsumption.canaryMessage(
            queue: queue, id: id, deliveryTag: UUID().uuidString.lowercased(), keepsResult: waitsForResult)
        let pushed: [RESPValue]
        switch session.call([["LLEN", queue], ["LPUSH", queue, message]], evidence: evidence) {
        case .ended(let observation): return observation
        case .value(let replies): pushed = replies
        }
        guard case .integer(let backlog) = pushed[0] else { return failed("LLEN \(queue)", pushed[0]) }
        evidence += ["LLEN \(queue) at start: \(backlog)", "canary: celery.accumulate \(id)"]
        if case .error(let message) = pushed[1] { return refused(message) }
        let payload = Array(message.utf8)
        var pause = Duration.milliseconds(10)
        while session.wait(pause, until: end) {
            pause = RedisQueueConsumption.next(after: pause)
            switch position(of: payload) {
            case .ended(let observation):
                _ = removed(message)
                return observation
            case .value(nil): return taken(id)
            case .value(.some): break
            }
            if ContinuousClock.now >= end { break }
        }
        let cancelled = session.deadline.isCancelled
        switch removed(message) {
        case .ended(let observation): return observation
        case .value(false): return taken(id)
        case .value(true): break
        }
        evidence += ["watched: \(elapsed) of \(windowShown)", "canary removed: yes"]
        if cancelled {
            return .error(
                RedisProbe.Cause.cancelled.rawValue, "the run was cancelled while watching '\(queue)'",
                evidence: evidence)
        }
        return .fail(
            RedisProbe.Cause.notConsumed.rawValue,
            "a canary task pushed to '\(queue)' behind \(backlog) messages was not taken within \(elapsed): "
                + "nothing consumes the queue (the canary was removed)",
            evidence: evidence)
    }

    /// The pass once the canary was taken, after removing any result a worker stored for it; with `canary_result`,
    /// only once that result is there.
    mutating func taken(_ id: String) -> Observation {
        let resultKey = "celery-task-meta-\(id)"
        if waitsForResult { return processed(id, resultKey: resultKey) }
        var left = "result key \(resultKey): none"
        if case .value(let replies) = cleanup.call([["DEL", resultKey]]), replies.first == .integer(1) {
            left = "result key \(resultKey): deleted"
        }
        evidence += ["taken after: \(elapsed) of \(windowShown)", left]
        return .pass("a canary task pushed to '\(queue)' was taken within \(elapsed)", evidence: evidence)
    }

    /// Waits, within the window, for the result a worker stores when it has run the canary, then deletes it.
    mutating func processed(_ id: String, resultKey: String) -> Observation {
        let takenAfter = elapsed
        var pause = Duration.milliseconds(10)
        repeat {
            switch session.call([["EXISTS", resultKey]], evidence: evidence) {
            case .ended(let observation): return observation
            case .value(let replies) where replies.first == .integer(1):
                _ = cleanup.call([["DEL", resultKey]])
                evidence += [
                    "taken after: \(takenAfter), result stored after: \(elapsed) of \(windowShown)",
                    "result key \(resultKey): deleted",
                ]
                return .pass(
                    "a canary task pushed to '\(queue)' was run by a worker within \(elapsed) (its result deleted)",
                    evidence: evidence)
            case .value: break
            }
            pause = RedisQueueConsumption.next(after: pause)
        } while ContinuousClock.now < end && session.wait(pause, until: end)
        evidence += [
            "taken after: \(takenAfter); no result within \(windowShown)",
            "result key \(resultKey): none yet (a worker that runs the canary later stores it, to expire with Celery's result_expires)",
        ]
        return .fail(
            RedisProbe.Cause.notConsumed.rawValue,
            "a worker took the canary task from '\(queue)' but stored no result within \(elapsed): it is paused, stuck or "
                + "keeps no results",
            evidence: evidence)
    }

    /// Removes the canary; true when it was still there, false when a worker took it meanwhile.
    mutating func removed(_ message: String) -> RedisStep<Bool> {
        switch cleanup.call([["LREM", queue, "1", message]], evidence: evidence) {
        case .ended(var observation):
            observation.evidence.append("canary removed: no, it may still be in '\(queue)'")
            return .ended(observation)
        case .value(let replies): return .value(replies.first != .integer(0))
        }
    }

    /// The session for leaving nothing behind: its own short deadline, which neither cancellation nor a spent step
    /// timeout ends.
    var cleanup: RedisSession {
        RedisSession(
            connection: session.connection,
            deadline: NetworkDeadline(after: max(session.deadline.remaining, RedisQueueConsumption.cleanupReserve)),
            timeout: RedisQueueConsumption.cleanupReserve, redactor: session.redactor)
    }

    /// Where `element` is in the list, counted from the head; nil when it is not there.
    /// Uses LPOS, or scans the list with LRANGE (at most `scanLimit` elements) where LPOS is unavailable; an
    /// element beyond the scan counts as present, at the end of the scan.
    mutating func position(of element: [UInt8]) -> RedisStep<Int?> {
        let text = String(decoding: element, as: UTF8.self)
        if hasPosition {
            switch session.call([["LPOS", queue, text]], evidence: evidence) {
            case .ended(let observation): return .ended(observation)
            case .value(let replies):
                switch replies[0] {
                case .integer(let index): return .value(Int(index))
                case .bulkString(nil), .array(nil): return .value(nil)
                default:
                    hasPosition = false
                    evidence.append("LPOS unavailable: \(session.redactor.redact(replies[0].shown).truncated(to: 80))")
                }
            }
        }
        let chunk = 100
        var start = 0
        while start < RedisQueueConsumption.scanLimit {
            let replies: [RESPValue]
            switch session.call([["LRANGE", queue, String(start), String(start + chunk - 1)]], evidence: evidence) {
            case .ended(let observation): return .ended(observation)
            case .value(let found): replies = found
            }
            guard case .array(let items?) = replies[0] else { return .value(nil) }
            if let index = items.firstIndex(of: .bulkString(element)) { return .value(start + index) }
            if items.count < chunk { return .value(nil) }
            start += chunk
        }
        return .value(start)
    }

    /// The fail for a command of the watch answered with an error (a key of another type).
    func failed(_ command: String, _ reply: RESPValue) -> Observation {
        let shown = session.redactor.redact(reply.shown)
        return .fail(
            RedisProbe.Cause.errorReply.rawValue, "\(command) failed: \(shown)",
            evidence: evidence + ["\(command) -> \(shown)"])
    }

    /// The fail for a refused LPUSH, named after what refuses writes.
    func refused(_ message: String) -> Observation {
        let reply = session.redactor.redact(message).truncated(to: 160)
        let evidence = self.evidence + ["LPUSH \(queue) -> (error) \(reply)"]
        if let refusal = RedisProbe.writeRefusal(message) {
            return .fail(
                refusal.cause.rawValue, refusal.meaning + ", so the producer cannot enqueue", evidence: evidence)
        }
        switch message.prefix(while: { $0 != " " }).uppercased() {
        case "NOAUTH":
            return .fail(
                RedisProbe.Cause.authRequired.rawValue, "Redis requires a password and the URL gives none",
                evidence: evidence)
        case "WRONGPASS":
            return .fail(
                RedisProbe.Cause.authFailed.rawValue, "Redis rejected the credentials: \(reply)", evidence: evidence)
        default:
            return .fail(RedisProbe.Cause.errorReply.rawValue, "LPUSH \(queue) failed: \(reply)", evidence: evidence)
        }
    }
}

extension RedisQueueConsumption {
    /// A duration in seconds with one decimal: `0.4s`.
    static func seconds(_ duration: Duration) -> String {
        let tenths = (duration.milliseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// A queued message as evidence: its Celery task name and id, never its arguments.
    static func describe(_ message: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message)) as? [String: Any],
            let headers = object["headers"] as? [String: Any], let task = headers["task"] as? String
        else { return "not a Celery message (\(message.count) bytes)" }
        let id = headers["id"] as? String ?? "?"
        return "task \(task.truncated(to: 80)), id \(id.truncated(to: 40))"
    }

    /// A Celery task message (protocol 2) as kombu's Redis transport stores it, for `celery.accumulate` with no
    /// arguments and no result kept, as Celery 5 sends it.
    static func canaryMessage(queue: String, id: String, deliveryTag: String, keepsResult: Bool = false) -> String {
        let body = Data(#"[[], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"#.utf8)
        let envelope: [(String, String)] = [
            ("body", json(body.base64EncodedString())),
            ("content-encoding", json("utf-8")),
            ("content-type", json("application/json")),
            (
                "headers",
                object([
                    ("lang", json("py")), ("task", json("celery.accumulate")), ("id", json(id)), ("shadow", "null"),
                    ("eta", "null"), ("expires", "null"), ("group", "null"), ("group_index", "null"),
                    ("retries", "0"), ("timelimit", "[null, null]"), ("root_id", json(id)), ("parent_id", "null"),
                    ("argsrepr", json("()")), ("kwargsrepr", json("{}")), ("origin", json("diagnose")),
                    ("ignore_result", keepsResult ? "false" : "true"),
                ])
            ),
            (
                "properties",
                object([
                    ("correlation_id", json(id)), ("reply_to", json("")), ("delivery_mode", "2"),
                    (
                        "delivery_info",
                        object([("exchange", json("")), ("routing_key", json(queue))])
                    ),
                    ("priority", "0"), ("body_encoding", json("base64")), ("delivery_tag", json(deliveryTag)),
                ])
            ),
        ]
        return object(envelope)
    }

    /// A JSON object of already encoded values, keys in the given order, spaced as Python's `json.dumps`.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { json($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    /// A JSON string.
    static func json(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
