internal import Foundation
internal import GRDB
internal import Synchronization

/// The delivery queue in one SQLite file (GRDB, WAL). `PRAGMA synchronous = FULL`: a commit is on
/// disk when it returns, so an answered 1.0/1.1 survives a crash or a power cut. Concurrent
/// enqueues are committed together (group commit), one fsync for many requests.
package final class SQLiteDeliveryStore: DeliveryStore {
    let pool: DatabasePool
    private let batcher: GroupCommit<[NewDelivery], [Int64]>
    private let directory: String
    /// The last health verdict and when it was taken (probes are at most one every 2 s).
    private let lastHealth = Mutex<(at: Int64, problem: String?)>((0, nil))
    /// Below this many free bytes in the data directory the store is not ready.
    static let minimumFreeBytes: UInt64 = 1 << 20

    /// The file is damaged: the gateway must not start on it.
    struct CorruptDatabase: Error, CustomStringConvertible {
        let path: String
        let report: String
        var description: String { "\(path) is corrupt (PRAGMA quick_check: \(report)); restore it from a backup or move it aside" }
    }

    /// Opens (creating if needed) the queue at `path`; `synchronousFull: false` is for benchmarks only.
    package init(path: String, synchronousFull: Bool = true) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        directory = (path as NSString).deletingLastPathComponent
        pool = try DatabasePool(path: path, configuration: configuration)
        let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        guard check == ["ok"] else { throw CorruptDatabase(path: path, report: check.prefix(3).joined(separator: "; ")) }
        // GRDB sets NORMAL for WAL databases when it opens the writer; the queue needs FULL.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronousFull ? "FULL" : "NORMAL")")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("deliveries-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        state TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        originator TEXT NOT NULL,
                        recipients TEXT NOT NULL,
                        body BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        lease_until INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT,
                        outcome TEXT);
                    CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
                    """)
        }
        migrator.registerMigration("health-v1") { db in
            try db.execute(sql: "CREATE TABLE health (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)")
        }
        migrator.registerMigration("deliveries-v2") { db in
            // The submission a record came from (`enqueueOnce`), so that one is never committed twice.
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN origin TEXT; CREATE UNIQUE INDEX deliveries_origin ON deliveries(origin)")
        }
        migrator.registerMigration("deliveries-v3") { db in
            // A mail-filter record's way back to e-mail, and the (submission, recipient) pairs committed.
            try db.execute(
                sql: """
                    ALTER TABLE deliveries ADD COLUMN envelope_sender TEXT;
                    ALTER TABLE deliveries ADD COLUMN original_mail BLOB;
                    CREATE TABLE submissions (key TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                    CREATE INDEX submissions_created ON submissions(created_at);
                    """)
        }
        try migrator.migrate(pool)
        let writer = pool
        batcher = GroupCommit { batch in
            try await writer.write { db in
                try batch.map { group in
                    try group.map { delivery in
                        try SQLiteDeliveryStore.insert(delivery, into: db)
                        return db.lastInsertedRowID
                    }
                }
            }
        }
    }

    /// Copies the WAL into the database file and empties it (at a clean stop).
    func checkpoint() { _ = try? pool.writeWithoutTransaction { try $0.checkpoint(.truncate) } }

    /// The `synchronous` setting in force on the writer (2 = FULL).
    package func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    package func enqueue(_ deliveries: [NewDelivery]) async throws -> [Int64] {
        guard !deliveries.isEmpty else { return [] }
        return try await noting { try await batcher.submit(deliveries) }
    }

    /// Runs a write; a failure to commit marks the store not ready at once, not at the next probe.
    private func noting<T>(_ write: () async throws -> T) async throws -> T {
        do { return try await write() } catch {
            if !(error is QueueError || error is CancellationError) {
                lastHealth.withLock { $0 = (Int64(Date().timeIntervalSince1970 * 1000), "queue store cannot commit: \(error)") }
            }
            throw error
        }
    }

    func enqueueNew(_ deliveries: [NewDelivery], submission: String) async throws -> [NewDelivery] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await noting {
            try await pool.write { db in
                var committed: [NewDelivery] = []
                for var delivery in deliveries {
                    delivery.recipients = try delivery.recipients.filter { recipient in
                        try db.execute(
                            sql: "INSERT INTO submissions (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                            arguments: [DeliveryStoreKeys.submission(submission, recipient), now])
                        return db.changesCount == 1
                    }
                    guard !delivery.recipients.isEmpty else { continue }
                    try Self.insert(delivery, into: db)
                    committed.append(delivery)
                }
                return committed
            }
        }
    }

    func committedRecipients(submission: String, among recipients: [String]) async throws -> Set<String> {
        guard !recipients.isEmpty else { return [] }
        return try await pool.read { db in
            Set(
                try recipients.filter { recipient in
                    try Int.fetchOne(
                        db, sql: "SELECT 1 FROM submissions WHERE key = ?",
                        arguments: [DeliveryStoreKeys.submission(submission, recipient)]) != nil
                })
        }
    }

    func claim(
        now: Int64, leaseUntil: Int64, owner: String, limit: Int,
        excludingDomains: Set<String>
    ) async throws -> [QueuedDelivery] {
        let excluded = Array(excludingDomains)
        return try await pool.write { db in
            let placeholders =
                excluded.isEmpty
                ? ""
                : "AND NOT (kind = 'ischedule' AND domain IN (\(excluded.map { _ in "?" }.joined(separator: ","))))"
            var arguments: [any DatabaseValueConvertible] = [leaseUntil, owner, now, now]
            arguments += excluded
            arguments.append(limit)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE deliveries SET lease_until = ?, lease_owner = ?
                    WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
                                 \(placeholders) ORDER BY next_attempt_at, id LIMIT ?)
                    RETURNING *
                    """, arguments: StatementArguments(arguments))
            return rows.map(Self.delivery).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    func finish(_ id: Int64, owner: String, _ update: DeliveryUpdate) async throws {
        try await noting {
            try await pool.write { db in
                for spawned in update.spawn { try Self.insert(spawned, into: db) }
                try db.execute(
                    sql: """
                        UPDATE deliveries SET state = ?, recipients = COALESCE(?, recipients), next_attempt_at = COALESCE(?, next_attempt_at),
                            last_error = COALESCE(?, last_error), outcome = COALESCE(?, outcome), attempts = attempts + ?,
                            lease_until = 0, lease_owner = NULL
                        WHERE id = ? AND lease_owner = ?
                        """,
                    arguments: [
                        update.state.rawValue, update.recipients?.joined(separator: "\n"), update.nextAttemptAt, update.error,
                        update.outcome, update.countsAsAttempt ? 1 : 0, id, owner
                    ])
                guard db.changesCount == 1 else { throw QueueError.leaseLost(id) }
            }
        }
    }

    package func delivery(_ id: Int64) async throws -> QueuedDelivery? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]).map(Self.delivery) }
    }

    package func list(state: QueuedDelivery.State?, limit: Int) async throws -> [QueuedDelivery] {
        try await pool.read { db in
            let rows =
                if let state {
                    try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE state = ? ORDER BY id LIMIT ?", arguments: [state.rawValue, limit])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM deliveries ORDER BY id LIMIT ?", arguments: [limit])
                }
            return rows.map(Self.delivery)
        }
    }

    package func retry(_ id: Int64, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET state = 'pending', next_attempt_at = ?, lease_until = 0, lease_owner = NULL
                    WHERE id = ? AND state IN ('pending', 'failed', 'dropped')
                    """, arguments: [now, id])
            return db.changesCount == 1
        }
    }

    package func drop(_ id: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE deliveries SET state = 'dropped', lease_until = 0, lease_owner = NULL WHERE id = ? AND state IN ('pending', 'held')",
                arguments: [id])
            return db.changesCount == 1
        }
    }

    package func statistics() async throws -> QueueStatistics {
        try await pool.read { db in
            var counts: [QueuedDelivery.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                if let state = QueuedDelivery.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(created_at) FROM deliveries WHERE state = 'pending'")
            return QueueStatistics(counts: counts, oldestPendingCreatedAt: oldest)
        }
    }

    func purgeFinished(createdBefore cutoff: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM deliveries WHERE state IN ('delivered', 'handed-off', 'failed', 'dropped') AND created_at < ?",
                arguments: [cutoff])
            let purged = db.changesCount
            try db.execute(sql: "DELETE FROM submissions WHERE created_at < ?", arguments: [DeliveryStoreKeys.submissionCutoff(cutoff)])
            return purged
        }
    }

    /// A SQLite queue serves one gateway process, so at start every lease but this process's own
    /// (its live attempts may already hold some) is a dead process's.
    func recoverAbandonedClaims(except owner: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET lease_until = 0, lease_owner = NULL WHERE state = 'pending' AND lease_owner IS NOT NULL AND lease_owner != ?
                    """, arguments: [owner])
            return db.changesCount
        }
    }

    func enqueueClaimed(_ deliveries: [NewDelivery], owner: String, leaseUntil: Int64) async throws -> [Int64] {
        try await noting {
            try await pool.write { db in
                try deliveries.map { delivery in
                    try Self.insert(delivery, into: db)
                    let id = db.lastInsertedRowID
                    try db.execute(sql: "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?", arguments: [owner, leaseUntil, id])
                    return id
                }
            }
        }
    }

    /// Whether a commit would succeed now: enough free space in the data directory, and a real
    /// (FULL-sync) write that commits. At most one probe every 2 s; callers in between get its verdict.
    func health() async -> String? {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if let cached = lastHealth.withLock({ now - $0.at < 2_000 ? $0 : nil }) { return cached.problem }
        var problem: String?
        var space = statvfs()
        if statvfs(directory, &space) == 0 {
            let free = UInt64(space.f_bavail) * UInt64(space.f_frsize)
            if free < Self.minimumFreeBytes { problem = "data directory \(directory) has \(free / 1024) KiB free" }
        }
        if problem == nil {
            do { try await pool.write { db in try db.execute(sql: "INSERT OR REPLACE INTO health (id, at) VALUES (1, ?)", arguments: [now]) } } catch
            {
                problem = "queue store cannot commit: \(error)"
            }
        }
        lastHealth.withLock { $0 = (now, problem) }
        return problem
    }

    /// Inserts one record, pending.
    static func insert(_ delivery: NewDelivery, into db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO deliveries (kind, state, domain, message_id, originator, recipients, body, created_at, next_attempt_at,
                                        attempts, last_error, envelope_sender, original_mail)
                VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                delivery.kind.rawValue, delivery.domain, delivery.messageID, delivery.originator,
                delivery.recipients.joined(separator: "\n"), Data(delivery.body),
                Int64(Date().timeIntervalSince1970 * 1000), delivery.notBefore, delivery.attempts, delivery.lastError,
                delivery.envelopeSender, delivery.originalMail.map { Data($0) }
            ])
    }

    static func delivery(_ row: Row) -> QueuedDelivery {
        let recipients: String = row["recipients"]
        let body: Data = row["body"]
        return QueuedDelivery(
            id: row["id"], kind: QueuedDelivery.Kind(rawValue: row["kind"]) ?? .iSchedule,
            state: QueuedDelivery.State(rawValue: row["state"]) ?? .failed, domain: row["domain"], messageID: row["message_id"],
            originator: row["originator"], recipients: recipients.split(separator: "\n").map(String.init), body: Array(body),
            createdAt: row["created_at"], nextAttemptAt: row["next_attempt_at"], attempts: row["attempts"],
            lastError: row["last_error"], outcome: row["outcome"], envelopeSender: row["envelope_sender"],
            originalMail: (row["original_mail"] as Data?).map { Array($0) })
    }
}
