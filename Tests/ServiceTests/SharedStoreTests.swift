import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Gateway

/// Several gateway processes on one real PostgreSQL database (`store: postgresql://…`).
@Suite("Gateways sharing a PostgreSQL store", .waitsOnProcesses)
struct SharedStoreTests {
    @Test("a request delivered through one instance is refused by another as a replay; its retry gets the first answer")
    func replayAcrossInstances() throws {
        let store: GatewayYAML.Value = ["store": .scalar(try TestPostgresServer.shared().createDatabase())]
        let first = try InboundBed(overrides: store)
        defer { _ = first.stop() }
        let second = try InboundBed(overrides: store)
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
        let bed = try InboundBed(overrides: ["store": .scalar(try database.createDatabase())])
        defer { _ = bed.stop() }
        #expect(try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/healthz").status == 200)
        database.stop()
        Thread.sleep(forTimeInterval: 2.2)
        let health = try RawHTTPConnection.exchange(
            port: bed.port, method: "GET", path: "/healthz",
            headers: [("X-ISchedule-Gateway-Secret", InboundBed.secret)])
        #expect(health.status == 503 && health.text.contains("cannot commit"), "\(health.text)")
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        let refused = try bed.post(invite.headers, body: invite.body)
        #expect(refused.status == 503 && refused.text.contains("replay protection unavailable"))
        #expect(bed.upstream.records.isEmpty)
    }

    @Test("store migrate moves a SQLite queue's pending records and replay records into PostgreSQL, once")
    func migrateFromSQLite() async throws {
        let work = GatewayProcess.temporaryDirectory("store-migrate")
        defer { try? FileManager.default.removeItem(at: work) }
        let sqlitePath = work.appendingPathComponent("data/queue.sqlite").path
        let sqlite = try SQLiteDeliveryStore(path: sqlitePath)
        let records = ["a.test", "b.test", "c.test"].map { domain in
            NewDelivery(
                kind: .iSchedule, domain: domain, messageID: "m-\(domain)", originator: "mailto:alice@alpha.test",
                recipients: ["mailto:x@\(domain)"], body: Array("BEGIN:VCALENDAR\r\n\u{0}\u{FF}".utf8), notBefore: 1_000,
                attempts: 2, lastError: "5.1 busy")
        }
        let ids = try await sqlite.enqueue(records)
        let done = try await sqlite.claim(now: 2_000, leaseUntil: 9_000, owner: "w", limit: 1, excludingDomains: [])
        try await sqlite.finish(done[0].id, owner: "w", DeliveryUpdate(state: .delivered))
        let ledger = try SQLiteReplayLedger(path: sqlitePath)
        let expires = Int64(Date().timeIntervalSince1970) + 3_600
        _ = try await ledger.remember(ReplayCache.Record(domain: "alpha.test", messageID: "r1", signature: "sig1", expires: expires), now: 0)
        _ = try await ledger.remember(ReplayCache.Record(domain: "alpha.test", messageID: "r2", signature: "sig2", expires: expires), now: 0)
        try await ledger.complete(domain: "alpha.test", messageID: "r2", answer: GatewayResponse(status: 200, headers: [], body: Array("ok".utf8)))

        let server = try TestPostgresServer.shared()
        let url = try server.createDatabase()
        let configuration = work.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.receiving()
        yaml["store"] = .scalar(url)
        try yaml.write(to: configuration)
        let first = try GatewayBinary.run(["store", "migrate", "--config", configuration.path])
        #expect(first.status == 0 && first.output.contains("moved 2 pending deliveries and 2 replay records from \(sqlitePath)"), "\(first.output)")
        let database = String(url.split(separator: "/").last!)
        #expect(
            try server.psql("SELECT domain, attempts, next_attempt_at, last_error FROM deliveries ORDER BY domain", database: database)
                == "b.test|2|1000|5.1 busy\nc.test|2|1000|5.1 busy")
        #expect(
            try server.psql("SELECT message_id, coalesce(answer_status, 0) FROM replay ORDER BY message_id", database: database) == "r1|0\nr2|200")
        // The bodies arrive byte for byte; the SQLite records are marked moved.
        #expect(
            try server.psql("SELECT encode(body, 'hex') FROM deliveries LIMIT 1", database: database)
                == records[0].body.map { String(format: "%02x", $0) }.joined())
        #expect(try await sqlite.delivery(ids[1])?.state == .handedOff)
        #expect(try await sqlite.delivery(ids[1])?.outcome?.hasPrefix("moved to postgresql://") == true)
        // Again: nothing moves twice. The queue command sees the PostgreSQL store.
        let second = try GatewayBinary.run(["store", "migrate", "--config", configuration.path])
        #expect(second.status == 0 && second.output.contains("moved 0 pending deliveries and 0 replay records"), "\(second.output)")
        let listing = try GatewayBinary.run(["queue", "list", "--config", configuration.path])
        #expect(listing.output.contains("b.test") && listing.output.contains("c.test") && listing.output.contains("pending 2"), "\(listing.output)")
    }

    @Test("an unreachable store: --check-config and serve say so in one line naming the key and the cause")
    func unreachableAtStart() throws {
        let work = GatewayProcess.temporaryDirectory("store-down")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let port = freeLoopbackPort()
        let configuration = work.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.local(upstream: "http://127.0.0.1:9/")
        yaml.merge(["store": "postgresql://gateway@127.0.0.1:\(port)/ischedule", "timeouts": ["store": "2s"]])
        try yaml.write(to: configuration)
        let check = try GatewayBinary.run(["serve", "--check-config", "--config", configuration.path])
        #expect(check.status != 0 && check.output.contains("store: cannot reach postgresql://gateway@127.0.0.1:\(port)/ischedule"), "\(check.output)")
        #expect(check.output.lowercased().contains("connection refused"), "\(check.output)")
        let serve = try GatewayBinary.run(["serve", "--config", configuration.path])
        #expect(
            serve.status != 0 && serve.output.contains("store: cannot prepare postgresql://gateway@127.0.0.1:\(port)/ischedule"), "\(serve.output)")
        #expect(!serve.output.contains("listening on"))
    }

    @Test("the database down: a recipient that needs the queue is answered 5.1, not promised")
    func intakeAnswers51() throws {
        let database = try TestPostgresServer()
        defer { database.stop() }
        let directory = GatewayProcess.temporaryDirectory("store-51")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = GatewayYAML.local()
        configuration.merge([
            "store": .scalar(try database.createDatabase()),
            "remote-domains": ["down.test": ["uri": "http://127.0.0.1:\(freeLoopbackPort())/ischedule", "tls-policy": "may"]],
            "dns": ["servers": ["127.0.0.1:9"]], "timeouts": ["connect": "1s", "store": "2s"]
        ])
        let gateway = try GatewayProcess(configuration: configuration, directory: directory)
        defer { _ = gateway.stop() }
        func invite(_ attendee: String) throws -> String {
            let response = try RawHTTPConnection.exchange(
                port: gateway.ports[0], path: "/outbound",
                headers: [
                    ("Originator", "mailto:ann@alpha.test"), ("Recipient", attendee), ("Content-Type", ITIP.contentType("REQUEST"))
                ],
                body: ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@alpha.test", attendees: [attendee]))
            return response.text
        }
        // The receiver is down: with the database up the recipient is queued and promised (1.0) …
        #expect(try invite("mailto:bob@down.test").contains("<request-status>1.0"))
        // … with it down, nothing can be promised.
        database.stop()
        let answer = try invite("mailto:carol@down.test")
        #expect(answer.contains("<request-status>5.1") && answer.contains("could not be queued"), "\(answer)")
    }
}
