internal import Foundation
internal import GRDB

/// `queue hold/release/force-imip/summary` on the SQLite queue.
extension SQLiteDeliveryStore {
    package func hold(_ id: Int64, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE deliveries SET state = 'held' WHERE id = ? AND state = 'pending' AND lease_until <= ?", arguments: [id, now])
            return db.changesCount == 1
        }
    }

    package func release(_ id: Int64, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql:
                    "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, lease_until = 0, lease_owner = NULL WHERE id = ? AND state = 'held'",
                arguments: [now, id])
            return db.changesCount == 1
        }
    }

    package func handOff(_ id: Int64, to records: [NewDelivery], now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET state = 'handed-off', outcome = ?, lease_until = 0, lease_owner = NULL
                    WHERE id = ? AND kind = 'ischedule' AND state IN ('pending', 'held', 'failed') AND lease_until <= ?
                    """, arguments: ["handed to iMIP by the administrator (\(records.count) recipient(s))", id, now])
            guard db.changesCount == 1 else { return false }
            for record in records { try Self.insert(record, into: db) }
            return true
        }
    }

    package func summary() async throws -> [DomainSummary] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, domain, SUM(state = 'pending') AS pending, SUM(state = 'held') AS held, SUM(state = 'failed') AS failed,
                           MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest
                    FROM deliveries WHERE state IN ('pending', 'held', 'failed') GROUP BY kind, domain ORDER BY kind, domain
                    """
            ).map { row in
                DomainSummary(
                    kind: row["kind"], domain: row["domain"], pending: row["pending"], held: row["held"], failed: row["failed"],
                    oldestPendingCreatedAt: row["oldest"])
            }
        }
    }
}
