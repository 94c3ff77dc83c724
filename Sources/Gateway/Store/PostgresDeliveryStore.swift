internal import Foundation
internal import NIOCore
internal import PostgresNIO

/// The delivery queue in PostgreSQL, shared by every gateway instance pointed at it. An enqueue
/// returns once its transaction committed (PostgreSQL's durable commit; concurrent enqueues share
/// one, as with SQLite). Instances claim due records with `FOR UPDATE SKIP LOCKED` and a lease:
/// never the same record twice at once, and a dead instance's records come back when its lease
/// runs out. Instances' clocks must agree within a small fraction of `delivery.lease` (NTP).
final class PostgresDeliveryStore: DeliveryStore {
    let database: PostgresDatabase
    private let batcher: GroupCommit<[NewDelivery], [Int64]>
    private let instance: String

    init(database: PostgresDatabase, instance: String = ProcessInfo.processInfo.hostName) {
        self.database = database
        self.instance = instance
        // One statement per batch: one round trip and one commit for every request waiting.
        batcher = GroupCommit { batch in
            var ids = try await database.query(Self.insert(batch.flatMap { $0 })).map { try $0.decode(Int64.self) }.sorted()[...]
            return batch.map { group in
                defer { ids = ids.dropFirst(group.count) }
                return Array(ids.prefix(group.count))
            }
        }
    }

    func enqueue(_ deliveries: [NewDelivery]) async throws -> [Int64] {
        guard !deliveries.isEmpty else { return [] }
        return try await noting { try await batcher.submit(deliveries) }
    }

    /// Runs a write; a failure to commit marks the store not ready at once.
    private func noting<T>(_ write: () async throws -> T) async throws -> T {
        do { return try await write() } catch {
            database.noteCommitFailure(error)
            throw error
        }
    }

    func enqueueNew(_ deliveries: [NewDelivery], submission: String) async throws -> [NewDelivery] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await noting {
            try await database.transaction { [database] connection in
                // The unique key decides, also between instances committing the same mail at once.
                var committed: [NewDelivery] = []
                for var delivery in deliveries {
                    let keys = delivery.recipients.map { DeliveryStoreKeys.submission(submission, $0) }
                    let new = try await connection.query(
                        """
                        INSERT INTO submissions (key, created_at) SELECT unnest(\(keys)::text[]), \(now)
                        ON CONFLICT (key) DO NOTHING RETURNING key
                        """, logger: database.logger
                    ).collect().map { try $0.decode(String.self) }
                    delivery.recipients = delivery.recipients.filter { Set(new).contains(DeliveryStoreKeys.submission(submission, $0)) }
                    if !delivery.recipients.isEmpty { committed.append(delivery) }
                }
                if !committed.isEmpty { try await connection.query(Self.insert(committed), logger: database.logger) }
                return committed
            }
        }
    }

    func committedRecipients(submission: String, among recipients: [String]) async throws -> Set<String> {
        guard !recipients.isEmpty else { return [] }
        let keys = recipients.map { DeliveryStoreKeys.submission(submission, $0) }
        let found = Set(try await database.query("SELECT key FROM submissions WHERE key = ANY(\(keys))").map { try $0.decode(String.self) })
        return Set(recipients.filter { found.contains(DeliveryStoreKeys.submission(submission, $0)) })
    }

    func claim(now: Int64, leaseUntil: Int64, owner: String, limit: Int, excludingDomains: Set<String>) async throws -> [QueuedDelivery] {
        let excluded = Array(excludingDomains)
        let rows = try await database.query(
            """
            UPDATE deliveries SET lease_until = \(leaseUntil), lease_owner = \(owner)
            WHERE id IN (SELECT id FROM deliveries
                         WHERE state = 'pending' AND next_attempt_at <= \(now) AND lease_until <= \(now)
                           AND NOT (kind = 'ischedule' AND domain = ANY(\(excluded)))
                         ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING *
            """)
        return try rows.map(Self.delivery).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    func finish(_ id: Int64, owner: String, _ update: DeliveryUpdate) async throws {
        try await noting {
            try await database.transaction { [database] connection in
                if !update.spawn.isEmpty { try await connection.query(Self.insert(update.spawn), logger: database.logger) }
                let updated = try await connection.query(
                    """
                    UPDATE deliveries SET state = \(update.state.rawValue), recipients = COALESCE(\(update.recipients?.joined(separator: "\n")), recipients),
                        next_attempt_at = COALESCE(\(update.nextAttemptAt), next_attempt_at), last_error = COALESCE(\(update.error), last_error),
                        outcome = COALESCE(\(update.outcome), outcome), attempts = attempts + \(update.countsAsAttempt ? 1 : 0),
                        lease_until = 0, lease_owner = NULL
                    WHERE id = \(id) AND lease_owner = \(owner)
                    RETURNING id
                    """, logger: database.logger
                ).collect()
                guard updated.count == 1 else { throw QueueError.leaseLost(id) }
            }
        }
    }

    func delivery(_ id: Int64) async throws -> QueuedDelivery? {
        try await database.query("SELECT * FROM deliveries WHERE id = \(id)").first.map(Self.delivery)
    }

    func list(state: QueuedDelivery.State?, limit: Int) async throws -> [QueuedDelivery] {
        let rows =
            if let state {
                try await database.query("SELECT * FROM deliveries WHERE state = \(state.rawValue) ORDER BY id LIMIT \(limit)")
            } else {
                try await database.query("SELECT * FROM deliveries ORDER BY id LIMIT \(limit)")
            }
        return try rows.map(Self.delivery)
    }

    func retry(_ id: Int64, now: Int64) async throws -> Bool {
        try await database.query(
            """
            UPDATE deliveries SET state = 'pending', next_attempt_at = \(now), lease_until = 0, lease_owner = NULL
            WHERE id = \(id) AND state IN ('pending', 'failed', 'dropped') RETURNING id
            """
        ).count == 1
    }

    func drop(_ id: Int64) async throws -> Bool {
        try await database.query(
            """
            UPDATE deliveries SET state = 'dropped', lease_until = 0, lease_owner = NULL WHERE id = \(id) AND state IN ('pending', 'held') RETURNING id
            """
        ).count == 1
    }

    func statistics() async throws -> QueueStatistics {
        var counts: [QueuedDelivery.State: Int] = [:]
        for row in try await database.query("SELECT state, COUNT(*) FROM deliveries GROUP BY state") {
            let (state, count) = try row.decode((String, Int64).self)
            if let state = QueuedDelivery.State(rawValue: state) { counts[state] = Int(count) }
        }
        let oldest = try await database.query("SELECT MIN(created_at) FROM deliveries WHERE state = 'pending'").first?.decode(Int64?.self) ?? nil
        return QueueStatistics(counts: counts, oldestPendingCreatedAt: oldest)
    }

    func purgeFinished(createdBefore cutoff: Int64) async throws -> Int {
        let purged = try await database.query(
            """
            DELETE FROM deliveries WHERE state IN ('delivered', 'handed-off', 'failed', 'dropped') AND created_at < \(cutoff) RETURNING id
            """
        ).count
        try await database.query("DELETE FROM submissions WHERE created_at < \(DeliveryStoreKeys.submissionCutoff(cutoff))")
        return purged
    }

    /// Nothing: other instances' claims are live as far as this one can tell. A claim of an
    /// instance that died comes back when its lease runs out (`delivery.lease`).
    func recoverAbandonedClaims(except owner: String) async throws -> Int { 0 }

    func enqueueClaimed(_ deliveries: [NewDelivery], owner: String, leaseUntil: Int64) async throws -> [Int64] {
        guard !deliveries.isEmpty else { return [] }
        return try await noting {
            try await database.transaction { [database] connection in
                let ids = try await connection.query(Self.insert(deliveries), logger: database.logger).collect().map { try $0.decode(Int64.self) }
                    .sorted()
                try await connection.query(
                    "UPDATE deliveries SET lease_owner = \(owner), lease_until = \(leaseUntil) WHERE id = ANY(\(ids))",
                    logger: database.logger)
                return ids
            }
        }
    }

    func health() async -> String? {
        await database.health(instance: instance)
    }

    /// Inserts `deliveries` in one statement; ids come back in ascending order, which is the order
    /// of `deliveries` (one statement draws its sequence values in the order it inserts rows).
    static func insert(_ deliveries: [NewDelivery]) -> PostgresQuery {
        let createdAt = Int64(Date().timeIntervalSince1970 * 1000)
        return """
            INSERT INTO deliveries (kind, state, domain, message_id, originator, recipients, body, created_at, next_attempt_at,
                                    attempts, last_error, envelope_sender, original_mail)
            SELECT kind, 'pending', domain, message_id, originator, recipients, body, \(createdAt), not_before, attempts, NULLIF(last_error, ''),
                   CASE WHEN has_sender THEN envelope_sender END, CASE WHEN has_mail THEN original_mail END
            FROM unnest(\(deliveries.map(\.kind.rawValue)), \(deliveries.map(\.domain)), \(deliveries.map(\.messageID)),
                        \(deliveries.map(\.originator)), \(deliveries.map { $0.recipients.joined(separator: "\n") }),
                        \(deliveries.map { ByteBuffer(bytes: $0.body) }), \(deliveries.map(\.notBefore)), \(deliveries.map { Int64($0.attempts) }),
                        \(deliveries.map { $0.lastError ?? "" }), \(deliveries.map { $0.envelopeSender != nil }),
                        \(deliveries.map { $0.envelopeSender ?? "" }), \(deliveries.map { $0.originalMail != nil }),
                        \(deliveries.map { ByteBuffer(bytes: $0.originalMail ?? []) }))
                 WITH ORDINALITY AS new (kind, domain, message_id, originator, recipients, body, not_before, attempts, last_error,
                                         has_sender, envelope_sender, has_mail, original_mail, position)
            ORDER BY position
            RETURNING id
            """
    }

    static func delivery(_ row: PostgresRow) throws -> QueuedDelivery {
        let columns = row.makeRandomAccess()
        let body = try columns["body"].decode(ByteBuffer.self)
        return QueuedDelivery(
            id: try columns["id"].decode(Int64.self),
            kind: QueuedDelivery.Kind(rawValue: try columns["kind"].decode(String.self)) ?? .iSchedule,
            state: QueuedDelivery.State(rawValue: try columns["state"].decode(String.self)) ?? .failed,
            domain: try columns["domain"].decode(String.self), messageID: try columns["message_id"].decode(String.self),
            originator: try columns["originator"].decode(String.self),
            recipients: try columns["recipients"].decode(String.self).split(separator: "\n").map(String.init),
            body: Array(body.readableBytesView), createdAt: try columns["created_at"].decode(Int64.self),
            nextAttemptAt: try columns["next_attempt_at"].decode(Int64.self), attempts: Int(try columns["attempts"].decode(Int64.self)),
            lastError: try columns["last_error"].decode(String?.self), outcome: try columns["outcome"].decode(String?.self),
            envelopeSender: try columns["envelope_sender"].decode(String?.self),
            originalMail: try columns["original_mail"].decode(ByteBuffer?.self).map { Array($0.readableBytesView) })
    }
}

/// A PostgreSQL answer the store did not expect.
struct PostgresStoreError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
