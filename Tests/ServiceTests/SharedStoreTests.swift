import Foundation
import TestSupport
import Testing

/// Several gateway processes on one real PostgreSQL database (`store: postgresql://…`).
@Suite("Gateways sharing a PostgreSQL store")
struct SharedStoreTests {
    @Test("a request delivered through one instance is refused by another as a replay; its retry gets the first answer")
    func replayAcrossInstances() throws {
        let store = "store: \(try TestPostgresServer.shared().createDatabase())"
        let first = try InboundBed(extraConfiguration: store)
        defer { _ = first.stop() }
        let second = try InboundBed(extraConfiguration: store)
        defer { _ = second.stop() }

        let invite = try first.signedInvite(to: ["mailto:bob@beta.test"], messageID: "shared-replay-1")
        let delivered = try first.post(invite.headers, body: invite.body)
        #expect(delivered.status == 200 && first.upstream.records.count == 1)
        let replayed = try second.post(invite.headers, body: invite.body)
        #expect(replayed.status == 403 && precondition(of: replayed) == "verification-failed" && replayed.text.contains("replayed"))
        // The sender's re-signed retry at the other instance: the answer the first gave, nothing forwarded again.
        let retry = try RemoteSigner(domain: "alpha.test").sign(
            [("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))],
            body: invite.body, messageID: "shared-replay-1", now: Int64(Date().timeIntervalSince1970) + 1)
        let answered = try second.post(retry, body: invite.body)
        #expect(answered.status == 200 && answered.body == delivered.body)
        // The same id for other recipients is a conflict there too.
        let other = try second.signedInvite(to: ["mailto:carol@beta.test"], messageID: "shared-replay-1")
        #expect(try second.post(other.headers, body: other.body).status == 403)
        #expect(second.upstream.records.isEmpty && first.upstream.records.count == 1)
        // Both instances use the database, not a file of their own.
        #expect(!FileManager.default.fileExists(atPath: first.gateway.directory.appendingPathComponent("data/queue.sqlite").path))
    }

    @Test("the database down: /healthz says not ready and a signed request is refused for now, never forwarded unrecorded")
    func databaseDown() throws {
        let database = try TestPostgresServer()
        defer { database.stop() }
        let bed = try InboundBed(extraConfiguration: "store: \(try database.createDatabase())")
        defer { _ = bed.stop() }
        #expect(try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/healthz").status == 200)
        database.stop()
        Thread.sleep(forTimeInterval: 2.2)
        let health = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/healthz")
        #expect(health.status == 503 && health.text.contains("cannot commit"), "\(health.text)")
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        let refused = try bed.post(invite.headers, body: invite.body)
        #expect(refused.status == 503 && refused.text.contains("replay protection unavailable"))
        #expect(bed.upstream.records.isEmpty)
    }
}
