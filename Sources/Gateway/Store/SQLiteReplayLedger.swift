internal import DKIM
internal import Foundation
internal import GRDB

/// The replay ledger in the gateway's state database (the SQLite file in the data directory that
/// the queue also uses, through a connection pool and a migration of its own). A fresh request's
/// record is durable before it is forwarded (`synchronous = FULL`), so a request accepted before a
/// crash is still refused after it; concurrent requests share that commit (group commit: one
/// fsync for all). The answer is written without a sync of its own: it is durable with the next
/// commit that syncs the write-ahead log (WAL frames are synced in order) or at the checkpoint;
/// answers that arrive together share a transaction too.
/// A crash before that loses only the stored answer: the record stays, and a re-signed retry is
/// forwarded again (the same as a crash during the forward).
struct SQLiteReplayLedger: ReplayLedger {
    let pool: DatabasePool
    private let records: GroupCommit<(record: ReplayCache.Record, now: Int64), ReplayCache.Record?>
    private let answers: GroupCommit<(domain: String, messageID: String, answer: GatewayResponse), Void>

    init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("replay-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE replay (
                        domain TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        expires INTEGER NOT NULL,
                        answer_status INTEGER,
                        answer_headers TEXT,
                        answer_body BLOB,
                        PRIMARY KEY (domain, message_id));
                    CREATE INDEX replay_expires ON replay(expires);
                    """)
        }
        migrator.registerMigration("replay-v2") { db in
            // A fingerprint of the recipient set: the same id for other recipients is refused.
            try db.execute(sql: "ALTER TABLE replay ADD COLUMN recipients TEXT NOT NULL DEFAULT ''")
        }
        try migrator.migrate(pool)
        let writer = pool
        records = GroupCommit { batch in
            try await writer.write { db in try batch.map { try Self.record($0.record, now: $0.now, in: db) } }
        }
        answers = GroupCommit { batch in
            try await writer.writeWithoutTransaction { db in
                // Not synced now: the next durable commit (or the checkpoint) carries them.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                let written = Result {
                    try db.inTransaction {
                        for (domain, messageID, answer) in batch {
                            try db.execute(
                                sql: """
                                    UPDATE replay SET answer_status = ?, answer_headers = ?, answer_body = ?
                                    WHERE domain = ? AND message_id = ?
                                    """, arguments: [answer.status, answer.storedHeaders, Data(answer.body), domain.lowercased(), messageID])
                        }
                        return .commit
                    }
                }
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try written.get()
            }
            return batch.map { _ in () }
        }
    }

    /// Writes a fresh request's record, unless the ledger holds a live one of the same (domain,
    /// message id) that decides it: the cache in front forgets (quotas, capacity) while the
    /// ledger keeps every record until its `x=`, so a replay of a forgotten request is still
    /// caught here. A live record is returned when it is the same request (same signature), has
    /// an answer, or names other recipients; a re-signed retry of a request that ended without
    /// an answer takes its record over.
    private static func record(_ record: ReplayCache.Record, now: Int64, in db: Database) throws -> ReplayCache.Record? {
        let arguments: StatementArguments = [record.domain, record.messageID, record.signature, record.recipients, record.expires]
        try db.execute(
            sql: """
                INSERT INTO replay (domain, message_id, signature, recipients, expires) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (domain, message_id) DO NOTHING
                """, arguments: arguments)
        if db.changesCount == 1 { return nil }
        if let row = try Row.fetchOne(
            db, sql: "SELECT * FROM replay WHERE domain = ? AND message_id = ? AND expires >= ?",
            arguments: [record.domain, record.messageID, now])
        {
            let existing = ReplayCache.Record(
                domain: row["domain"], messageID: row["message_id"], signature: row["signature"],
                recipients: row["recipients"], expires: row["expires"], answer: answer(row))
            let otherRecipients = !existing.recipients.isEmpty && !record.recipients.isEmpty && existing.recipients != record.recipients
            if existing.signature == record.signature || existing.answer != nil || otherRecipients { return existing }
        }
        // Expired, or a retry of a request that ended without an answer: this request takes the record.
        try db.execute(
            sql: """
                UPDATE replay SET signature = ?3, recipients = ?4, expires = MAX(expires, ?5), answer_status = NULL,
                    answer_headers = NULL, answer_body = NULL WHERE domain = ?1 AND message_id = ?2
                """, arguments: arguments)
        return nil
    }

    func load(now: Int64) async throws -> [ReplayCache.Record] {
        // Read through a cursor: one row at a time becomes a record (all rows at once, as GRDB
        // rows, took 140 MB at a restart with 77,000 records).
        try await pool.read { db in
            var records: [ReplayCache.Record] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM replay WHERE expires >= ?", arguments: [now])
            while let row = try rows.next() {
                records.append(
                    ReplayCache.Record(
                        domain: row["domain"], messageID: row["message_id"], signature: row["signature"],
                        recipients: row["recipients"], expires: row["expires"], answer: Self.answer(row)))
            }
            return records
        }
    }

    func remember(_ record: ReplayCache.Record, now: Int64) async throws -> ReplayCache.Record? {
        try await records.submit((record, now))
    }

    func complete(domain: String, messageID: String, answer: GatewayResponse) async throws {
        try await answers.submit((domain, messageID, answer))
    }

    /// Nothing to do: the cache in front of a one-gateway ledger knows the request is no longer in flight.
    func release(domain: String, messageID: String) async throws {}

    func prune(now: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM replay WHERE expires < ?", arguments: [now])
            return db.changesCount
        }
    }

    private static func answer(_ row: Row) -> GatewayResponse? {
        guard let status: Int = row["answer_status"] else { return nil }
        let headers = GatewayResponse.headers(stored: row["answer_headers"] ?? "")
        let body: Data = row["answer_body"] ?? Data()
        return GatewayResponse(status: status, headers: headers, body: Array(body))
    }
}
