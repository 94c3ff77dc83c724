internal import Foundation
internal import NIOCore
internal import PostgresNIO

/// The replay ledger in PostgreSQL, shared by every instance: a request delivered through one
/// instance is refused as a replay by the others. Each instance's in-memory cache sees only its
/// own requests, so the ledger decides for the rest: a fresh (domain, message id) is inserted in
/// one statement (committed before anything is forwarded); when another instance holds a live
/// record of it, that record comes back unchanged. An unanswered record older than
/// `inFlightHorizon` seconds is a dead instance's: a re-signed retry (same recipients) takes it over.
struct PostgresReplayLedger: ReplayLedger {
    let database: PostgresDatabase
    /// Seconds after which an unanswered record no longer counts as being forwarded.
    let inFlightHorizon: Int64

    func load(now: Int64) async throws -> [ReplayCache.Record] {
        try await database.query("SELECT * FROM replay WHERE expires >= \(now)").map(Self.record)
    }

    func remember(_ record: ReplayCache.Record, now: Int64) async throws -> ReplayCache.Record? {
        let taken = try await database.query(
            """
            INSERT INTO replay AS old (domain, message_id, signature, recipients, expires, remembered_at)
            VALUES (\(record.domain), \(record.messageID), \(record.signature), \(record.recipients), \(record.expires), \(now))
            ON CONFLICT (domain, message_id) DO UPDATE SET signature = excluded.signature, recipients = excluded.recipients,
                expires = GREATEST(old.expires, excluded.expires), remembered_at = excluded.remembered_at,
                answer_status = NULL, answer_headers = NULL, answer_body = NULL
            WHERE old.expires < \(now)
               OR (old.answer_status IS NULL AND old.remembered_at < \(now - inFlightHorizon)
                   AND old.signature <> excluded.signature AND old.recipients = excluded.recipients)
            RETURNING 1
            """)
        guard taken.isEmpty else { return nil }
        let existing = try await database.query(
            "SELECT * FROM replay WHERE domain = \(record.domain) AND message_id = \(record.messageID)")
        guard let row = existing.first else {
            // Pruned between the two statements: nobody holds it now.
            return try await remember(record, now: now)
        }
        return try Self.record(row)
    }

    func complete(domain: String, messageID: String, answer: GatewayResponse) async throws {
        try await database.query(
            """
            UPDATE replay SET answer_status = \(Int64(answer.status)), answer_headers = \(answer.storedHeaders), answer_body = \(ByteBuffer(bytes: answer.body))
            WHERE domain = \(domain.lowercased()) AND message_id = \(messageID)
            """)
    }

    /// Marks an unanswered record as no longer in flight (as if remembered long ago).
    func release(domain: String, messageID: String) async throws {
        try await database.query(
            """
            UPDATE replay SET remembered_at = 0 WHERE domain = \(domain.lowercased()) AND message_id = \(messageID) AND answer_status IS NULL
            """)
    }

    func prune(now: Int64) async throws -> Int {
        try await database.query("DELETE FROM replay WHERE expires < \(now) RETURNING 1").count
    }

    private static func record(_ row: PostgresRow) throws -> ReplayCache.Record {
        let columns = row.makeRandomAccess()
        var answer: GatewayResponse?
        if let status = try columns["answer_status"].decode(Int64?.self) {
            let headers = GatewayResponse.headers(stored: try columns["answer_headers"].decode(String?.self) ?? "")
            let body = try columns["answer_body"].decode(ByteBuffer?.self)
            answer = GatewayResponse(status: Int(status), headers: headers, body: body.map { Array($0.readableBytesView) } ?? [])
        }
        return ReplayCache.Record(
            domain: try columns["domain"].decode(String.self), messageID: try columns["message_id"].decode(String.self),
            signature: try columns["signature"].decode(String.self),
            recipients: try columns["recipients"].decode(String.self), expires: try columns["expires"].decode(Int64.self),
            answer: answer)
    }
}
