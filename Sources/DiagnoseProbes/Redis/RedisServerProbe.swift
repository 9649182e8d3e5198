import DiagnoseCompose
import DiagnosePlatform
import Foundation

/// Reads what an operator reads from `INFO` and `CONFIG GET` when Redis answers PING but misbehaves, and names
/// what keeps it from taking writes.
///
/// Causes, fail, checked in this order: `loading`, `read-only-replica`, `persistence-failing`, `maxmemory-reached`,
/// `maxclients-reached`; and those of the redis probe for the connection (`connection-refused`, `auth-required`,
/// `auth-failed`, `reply-timeout`, `not-redis`, ...). A CONFIG that is renamed, disabled or refused is no failure:
/// the probe judges from INFO alone and says so.
public struct RedisServerProbe: Probe {
    /// The causes it decides itself, checked in this order; the connection's are the redis kind's (`RedisProbe.Cause`).
    public enum Cause: String, Sendable {
        /// Redis is loading its dataset and refuses reads and writes until it is done.
        case loading
        /// As many clients are connected as maxclients allows: new connections are refused.
        case maxclientsReached = "maxclients-reached"
        /// Memory is at maxmemory and the policy frees nothing: writes are refused with OOM.
        case maxmemoryReached = "maxmemory-reached"
        /// Its last background save or append-only write failed: writes are refused with MISCONF.
        case persistenceFailing = "persistence-failing"
        /// Redis is a read-only replica: writes are refused with READONLY.
        case readOnlyReplica = "read-only-replica"
    }

    /// Where to connect, and from where.
    public var endpoint: RedisEndpoint
    /// The share of `maxmemory` from which memory counts as full.
    public var memoryRatio: Double

    /// The CONFIG parameters read, each with its own `CONFIG GET` (older servers take one parameter per call).
    static let parameters = [
        "maxmemory-policy", "stop-writes-on-bgsave-error", "save", "replica-read-only", "maxclients", "dir",
    ]

    /// Builds the probe: `url` (or `in` with `url_env`), and optionally `memory_ratio`.
    public init(_ arguments: ProbeArguments) throws(ProbeArgumentError) {
        endpoint = try RedisEndpoint(arguments)
        let ratioText = try arguments.string("memory_ratio") ?? "0.95"
        guard let ratio = Double(ratioText.trimmingWhitespace()), ratio > 0, ratio <= 1 else {
            throw ProbeArgumentError("memory_ratio", "expected a number above 0 and at most 1, got '\(ratioText)'")
        }
        memoryRatio = ratio
    }

    public func run(_ context: ProbeContext) async -> Observation {
        let ratio = memoryRatio
        return await endpoint.run(context, kind: "redis-server") { url, connector in
            let commands = [["INFO"]] + Self.parameters.map { ["CONFIG", "GET", $0] }
            switch RedisSession.open(url, connector: connector, then: commands) {
            case .ended(let observation): return observation
            case .value(let (session, replies, evidence)):
                guard let text = replies[0].text else {
                    let shown = session.redactor.redact(replies[0].shown)
                    return .fail(
                        RedisProbe.Cause.errorReply.rawValue, "INFO failed: \(shown)",
                        evidence: evidence + ["INFO -> \(shown)"])
                }
                var health = RedisServerHealth(info: text, memoryRatio: ratio)
                for (parameter, reply) in zip(Self.parameters, replies.dropFirst()) {
                    health.read(parameter, from: reply, redactor: session.redactor)
                }
                var observation = health.verdict
                observation.summary = session.redactor.redact(observation.summary)
                observation.evidence = evidence + observation.evidence.map(session.redactor.redact)
                return observation
            }
        }
    }
}

/// The state of a Redis server from its `INFO` text and the CONFIG parameters it let the probe read.
struct RedisServerHealth {
    /// INFO's `field:value` lines.
    var info: [String: String] = [:]
    /// CONFIG parameters by name, as far as they could be read.
    var config: [String: String] = [:]
    /// Why CONFIG could not be read, when it could not.
    var configProblem: String?
    /// The share of `maxmemory` from which memory counts as full.
    var memoryRatio: Double

    init(info text: String, memoryRatio: Double) {
        self.memoryRatio = memoryRatio
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) where !line.hasPrefix("#")
        {
            guard let colon = line.firstIndex(of: ":") else { continue }
            info[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingWhitespace()
        }
    }

    /// Records the reply to `CONFIG GET parameter`: a name and a value, nothing (unknown to this version), or an error.
    mutating func read(_ parameter: String, from reply: RESPValue, redactor: Redactor) {
        switch reply {
        case .array(let items?) where items.count >= 2:
            if let value = items[1].text { config[parameter] = value }
        case .error:
            if configProblem == nil { configProblem = redactor.redact(reply.shown).truncated(to: 100) }
        default: break
        }
    }

    func number(_ field: String) -> Int64? { info[field].flatMap { Int64($0) } }

    /// A CONFIG flag: true for yes, false for no, nil when it could not be read.
    func flag(_ parameter: String) -> Bool? { config[parameter].map { $0.lowercased() == "yes" } }

    /// An INFO value as evidence, bounded.
    func fact(_ field: String) -> String { "\(field): \((info[field] ?? "?").truncated(to: 80))" }

    /// A CONFIG value as evidence, or why it is unknown and what Redis does by default.
    func setting(_ parameter: String, defaultValue: String) -> String {
        if let value = config[parameter] {
            return "\(parameter): \(value.isEmpty ? "(none)" : value.truncated(to: 80))"
        }
        return "\(parameter): unknown (CONFIG unreadable), \(defaultValue) by default"
    }

    /// The verdict, with the facts it rests on.
    var verdict: Observation {
        let version = info["redis_version"] ?? "?"
        var evidence = ["server: redis \(version)"]
        if let configProblem {
            evidence.append("config: CONFIG GET refused (\(configProblem)): judged from INFO alone")
        }

        if info["loading"] == "1" || info["async_loading"] == "1" {
            evidence += [fact("loading"), fact("loading_loaded_perc"), fact("loading_eta_seconds")]
            return .fail(
                RedisServerProbe.Cause.loading.rawValue,
                "Redis is loading its dataset (\(info["loading_loaded_perc"] ?? "?")% done): it refuses reads and "
                    + "writes with LOADING until it is done", evidence: evidence)
        }

        let isReplica = info["role"] == "slave"
        if isReplica {
            let master = "\(info["master_host"] ?? "?"):\(info["master_port"] ?? "?")"
            evidence += [
                "role: replica", "master: \(master.truncated(to: 80))", fact("master_link_status"),
                config["replica-read-only"] == nil && config["slave-read-only"] != nil
                    ? "replica-read-only: \(config["slave-read-only"] ?? "")"
                    : setting("replica-read-only", defaultValue: "yes"),
            ]
            if flag("replica-read-only") ?? flag("slave-read-only") ?? true {
                return .fail(
                    RedisServerProbe.Cause.readOnlyReplica.rawValue,
                    "Redis is a read-only replica of \(master) (link \(info["master_link_status"] ?? "?")): writes "
                        + "such as Celery's LPUSH and BRPOP are refused with READONLY", evidence: evidence)
            }
        } else {
            evidence.append("role: \(info["role"] ?? "?")")
        }

        let bgsaveFailed = info["rdb_last_bgsave_status"] == "err"
        let aofEnabled = info["aof_enabled"] == "1"
        let aofWriteFailed = aofEnabled && info["aof_last_write_status"] == "err"
        evidence += [
            fact("rdb_last_bgsave_status"), fact("rdb_changes_since_last_save"),
            setting("stop-writes-on-bgsave-error", defaultValue: "yes"),
            setting("save", defaultValue: "3600 1 300 100 60 10000"),
        ]
        if let dir = config["dir"] {
            // Redis answers with getcwd(), which is empty once its working folder is removed.
            evidence.append(
                "dir: "
                    + (dir.isEmpty
                        ? "(empty: the server cannot name its working folder; removed?)" : dir.truncated(to: 120)))
        }
        if aofEnabled { evidence += [fact("aof_last_write_status"), fact("aof_last_bgrewrite_status")] }
        // Redis refuses writes after a failed BGSAVE only while it has save points and stop-writes-on-bgsave-error is
        // on; after a failed AOF write it refuses them whatever the settings.
        let bgsaveStopsWrites = bgsaveFailed && (flag("stop-writes-on-bgsave-error") ?? true) && config["save"] != ""
        if bgsaveStopsWrites || aofWriteFailed {
            let what = aofWriteFailed ? "cannot write its append-only file" : "its last background save (BGSAVE) failed"
            return .fail(
                RedisServerProbe.Cause.persistenceFailing.rawValue,
                "Redis \(what) in \(config["dir"].flatMap { $0.isEmpty ? nil : $0 } ?? "its data folder"): writes are "
                    + "refused with MISCONF",
                evidence: evidence)
        }

        let used = number("used_memory") ?? 0
        let limit = number("maxmemory") ?? 0
        let policy = config["maxmemory-policy"] ?? info["maxmemory_policy"] ?? "?"
        let usedShown = Self.bytes(used)
        let limitShown = limit > 0 ? Self.bytes(limit) : "no limit"
        evidence += [
            "used_memory: \(usedShown) of \(limitShown)" + (limit > 0 ? " (\(used * 100 / limit)%)" : ""),
            "maxmemory-policy: \(policy.truncated(to: 40))", fact("evicted_keys"),
        ]
        if limit > 0, Double(used) >= memoryRatio * Double(limit) {
            // A volatile-* policy can only evict keys with a TTL; Celery's queues have none.
            let expiring = info.filter { $0.key.hasPrefix("db") }.values.compactMap(Self.expires).reduce(0, +)
            if policy == "noeviction" || (policy.hasPrefix("volatile-") && expiring == 0) {
                return .fail(
                    RedisServerProbe.Cause.maxmemoryReached.rawValue,
                    "Redis uses \(usedShown) of its \(limitShown) maxmemory and policy \(policy) frees nothing: writes "
                        + "are refused with OOM", evidence: evidence)
            }
        }

        let clients = number("connected_clients") ?? 0
        let maxClients = config["maxclients"].flatMap { Int64($0) } ?? number("maxclients")
        evidence += [
            "connected_clients: \(clients) of maxclients \(maxClients.map(String.init) ?? "?")",
            fact("rejected_connections"),
        ]
        if let maxClients, clients >= maxClients - 1 {
            return .fail(
                RedisServerProbe.Cause.maxclientsReached.rawValue,
                "Redis has \(clients) clients connected of its maxclients \(maxClients): new connections (a restarted "
                    + "worker or backend) are refused", evidence: evidence)
        }

        let role = isReplica ? "a writable replica" : "a master"
        let save = bgsaveFailed ? "last save failed (writes still accepted)" : "last save ok"
        return .pass(
            "Redis \(version) is \(role), accepts writes: used \(usedShown) of \(limitShown), \(save), \(clients) "
                + "client\(clients == 1 ? "" : "s")", evidence: evidence)
    }

    /// The `expires=` count of an INFO keyspace line (`keys=10,expires=2,avg_ttl=0`).
    static func expires(_ line: String) -> Int64? {
        line.split(separator: ",").first { $0.hasPrefix("expires=") }.flatMap { Int64($0.dropFirst(8)) }
    }

    /// A byte count for a person: `812 B`, `1.2 MiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}

extension ProbeKind {
    /// `redis-server`: reads INFO and CONFIG and names what keeps Redis from taking writes while it answers PING.
    public static let redisServer = ProbeKind(
        name: "redis-server", optional: RedisEndpoint.argumentNames.union(["memory_ratio"])
    ) { arguments throws(ProbeArgumentError) in try RedisServerProbe(arguments) }
}
