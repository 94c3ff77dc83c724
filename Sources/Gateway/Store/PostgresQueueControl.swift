internal import Foundation
internal import PostgresNIO

/// `queue hold/release/force-imip/summary` on the shared PostgreSQL queue.
extension PostgresDeliveryStore {
    func hold(_ id: Int64, now: Int64) async throws -> Bool {
        try await database.query(
            """
            UPDATE deliveries SET state = 'held' WHERE id = \(id) AND state = 'pending' AND lease_until <= \(now) RETURNING id
            """
        ).count == 1
    }

    func release(_ id: Int64, now: Int64) async throws -> Bool {
        try await database.query(
            """
            UPDATE deliveries SET state = 'pending', next_attempt_at = \(now), lease_until = 0, lease_owner = NULL
            WHERE id = \(id) AND state = 'held' RETURNING id
            """
        ).count == 1
    }

    func handOff(_ id: Int64, to records: [NewDelivery], now: Int64) async throws -> Bool {
        try await database.transaction { [database] connection in
            let updated = try await connection.query(
                """
                UPDATE deliveries SET state = 'handed-off', outcome = \("handed to iMIP by the administrator (\(records.count) recipient(s))"),
                    lease_until = 0, lease_owner = NULL
                WHERE id = \(id) AND kind = 'ischedule' AND state IN ('pending', 'held', 'failed') AND lease_until <= \(now)
                RETURNING id
                """, logger: database.logger
            ).collect()
            guard updated.count == 1 else { return false }
            if !records.isEmpty { try await connection.query(Self.insert(records), logger: database.logger) }
            return true
        }
    }

    func summary() async throws -> [DomainSummary] {
        try await database.query(
            """
            SELECT kind, domain, COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'held'),
                   COUNT(*) FILTER (WHERE state = 'failed'), MIN(created_at) FILTER (WHERE state = 'pending')
            FROM deliveries WHERE state IN ('pending', 'held', 'failed') GROUP BY kind, domain ORDER BY kind, domain
            """
        ).map { row in
            let (kind, domain, pending, held, failed, oldest) = try row.decode((String, String, Int64, Int64, Int64, Int64?).self)
            return DomainSummary(
                kind: kind, domain: domain, pending: Int(pending), held: Int(held), failed: Int(failed),
                oldestPendingCreatedAt: oldest)
        }
    }
}
