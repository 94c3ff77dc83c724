internal import Foundation
internal import GRDB
package import Logging
internal import NIOCore
internal import PostgresNIO

/// `store migrate`: moves what a SQLite state file still owes (pending deliveries, live replay
/// records) into the configured PostgreSQL store. Safe to run again: a record already moved is
/// recognised by its origin and not inserted twice. The gateways using the file must be stopped.
package enum StoreMove {
    package struct Moved: Sendable, Equatable {
        package var deliveries: Int
        /// Pending records found already moved by an earlier run.
        package var alreadyMoved: Int
        package var replayRecords: Int
        package var destination: String
    }

    package static func fromSQLite(path: String, configuration: GatewayConfiguration, logger: Logger) async throws -> Moved {
        guard case .postgres(let settings) = configuration.store else {
            throw ConfigurationError(key: "store", problem: "is sqlite; set store: postgresql://… to move the queue there")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(key: "data-directory", problem: "no SQLite queue at \(path)")
        }
        let source = try SQLiteDeliveryStore(path: path)
        let pending = try await source.list(state: .pending, limit: Int.max)
        let submissions = try await source.submissionKeys()
        let replay = try await SQLiteReplayLedger(path: path).load(now: Int64(Date().timeIntervalSince1970))
        let origin = "sqlite:" + URL(fileURLWithPath: path).standardizedFileURL.path
        let deadline = Duration.milliseconds(Int64(configuration.timeouts.store * 1000))
        let (inserted, remembered) = try await PostgresDatabase(settings: settings, logger: logger, operationDeadline: deadline)
            .running(migrate: true) { database in
                let store = PostgresDeliveryStore(database: database)
                try await store.importSubmissions(submissions)
                return (
                    try await store.importDeliveries(pending, origin: origin),
                    try await PostgresReplayLedger(database: database, inFlightHorizon: 0).importRecords(replay)
                )
            }
        try await source.markMoved(pending.map(\.id), to: settings.description)
        return Moved(
            deliveries: inserted, alreadyMoved: pending.count - inserted, replayRecords: remembered,
            destination: settings.description)
    }
}

extension PostgresDeliveryStore {
    /// Inserts records as they are (age, attempts, next attempt kept), each once per `origin`.
    func importDeliveries(_ records: [QueuedDelivery], origin: String) async throws -> Int {
        var inserted = 0
        for record in records {
            inserted += try await database.query(
                """
                INSERT INTO deliveries (kind, state, domain, message_id, originator, recipients, body, created_at, next_attempt_at,
                                        attempts, last_error, origin, envelope_sender, original_mail)
                VALUES (\(record.kind.rawValue), 'pending', \(record.domain), \(record.messageID), \(record.originator),
                        \(record.recipients.joined(separator: "\n")), \(ByteBuffer(bytes: record.body)), \(record.createdAt),
                        \(record.nextAttemptAt), \(Int64(record.attempts)), \(record.lastError), \("\(origin)#\(record.id)"),
                        \(record.envelopeSender), \(record.originalMail.map { ByteBuffer(bytes: $0) }))
                ON CONFLICT (origin) DO NOTHING RETURNING id
                """
            ).count
        }
        return inserted
    }

    /// Keeps the mail filter's committed (submission, recipient) keys, so an MTA's late retry is still recognised.
    func importSubmissions(_ keys: [(key: String, createdAt: Int64)]) async throws {
        for key in keys {
            try await database.query("INSERT INTO submissions (key, created_at) VALUES (\(key.key), \(key.createdAt)) ON CONFLICT (key) DO NOTHING")
        }
    }
}

extension PostgresReplayLedger {
    /// Inserts records (with their stored answers) that the shared ledger does not hold yet.
    func importRecords(_ records: [ReplayCache.Record]) async throws -> Int {
        var inserted = 0
        for record in records {
            inserted += try await database.query(
                """
                INSERT INTO replay (domain, message_id, signature, recipients, expires, remembered_at, answer_status, answer_headers, answer_body)
                VALUES (\(record.domain), \(record.messageID), \(record.signature), \(record.recipients), \(record.expires), 0,
                        \(record.answer.map { Int64($0.status) }), \(record.answer?.storedHeaders), \(record.answer.map { ByteBuffer(bytes: $0.body) }))
                ON CONFLICT (domain, message_id) DO NOTHING RETURNING 1
                """
            ).count
        }
        return inserted
    }
}

extension SQLiteDeliveryStore {
    /// The mail filter's committed (submission, recipient) keys.
    func submissionKeys() async throws -> [(key: String, createdAt: Int64)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT key, created_at FROM submissions").map { ($0["key"], $0["created_at"]) }
        }
    }

    /// Marks moved records handed off, naming where they went.
    func markMoved(_ ids: [Int64], to destination: String) async throws {
        try await pool.write { db in
            for id in ids {
                try db.execute(
                    sql:
                        "UPDATE deliveries SET state = 'handed-off', outcome = ?, lease_until = 0, lease_owner = NULL WHERE id = ? AND state = 'pending'",
                    arguments: ["moved to \(destination)", id])
            }
        }
    }
}
