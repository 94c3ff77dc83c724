internal import DKIM
internal import Foundation
internal import GRDB

/// The replay ledger in the gateway's state database (the SQLite file in the data directory that
/// the queue also uses, through a connection pool and a migration of its own), written with
/// `synchronous = FULL` so that a request accepted before a crash is still refused after it.
struct SQLiteReplayLedger: ReplayLedger {
    let pool: DatabasePool

    init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("replay-v1") { db in
            try db.execute(sql: """
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
    }

    func load(now: Int64) async throws -> [ReplayCache.Record] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM replay WHERE expires >= ?", arguments: [now]).map { row in
                ReplayCache.Record(domain: row["domain"], messageID: row["message_id"], signature: row["signature"],
                                   recipients: row["recipients"], expires: row["expires"], answer: Self.answer(row))
            }
        }
    }

    /// One gateway per SQLite file: the cache in front has seen every request, so this only writes.
    func remember(_ record: ReplayCache.Record, now: Int64) async throws -> ReplayCache.Record? {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO replay (domain, message_id, signature, recipients, expires) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (domain, message_id) DO UPDATE SET signature = excluded.signature,
                    recipients = excluded.recipients, expires = MAX(replay.expires, excluded.expires)
                """, arguments: [record.domain, record.messageID, record.signature, record.recipients, record.expires])
        }
        return nil
    }

    func complete(domain: String, messageID: String, answer: GatewayResponse) async throws {
        let headers = answer.storedHeaders
        try await pool.write { db in
            try db.execute(sql: "UPDATE replay SET answer_status = ?, answer_headers = ?, answer_body = ? WHERE domain = ? AND message_id = ?",
                           arguments: [answer.status, headers, Data(answer.body), domain.lowercased(), messageID])
        }
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
