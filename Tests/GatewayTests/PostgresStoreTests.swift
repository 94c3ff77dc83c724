import Foundation
import Logging
import TestSupport
import TestTraits
import Testing

@testable import Gateway

/// What only a shared store must do: several instances (each its own pool) on one real
/// PostgreSQL database.
@Suite("PostgreSQL store shared by instances", .waitsOnProcesses)
struct PostgresStoreTests {
    func delivery(_ index: Int) -> NewDelivery {
        NewDelivery(
            kind: .iSchedule, domain: "d\(index % 5).test", messageID: "m\(index)", originator: "mailto:a@alpha.test",
            recipients: ["mailto:x\(index)@d\(index % 5).test"], body: Array("BEGIN:VCALENDAR\r\n".utf8), notBefore: 0)
    }

    @Test("instances claiming at once never get the same record (FOR UPDATE SKIP LOCKED)")
    func disjointClaims() async throws {
        let url = try TestPostgresServer.shared().createDatabase()
        try await PostgresBed.withDatabase(url: url) { first in
            try await PostgresBed.withDatabase(url: url) { second in
                let stores = [PostgresDeliveryStore(database: first), PostgresDeliveryStore(database: second)]
                _ = try await stores[0].enqueue((0..<300).map(delivery))
                let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for worker in 0..<6 {
                        group.addTask {
                            let store = stores[worker % 2]
                            let owner = "instance\(worker % 2)/worker\(worker)"
                            var mine: [Int64] = []
                            for _ in 0..<200 {
                                let claimed = try await store.claim(now: 10, leaseUntil: 1_000_000, owner: owner, limit: 7, excludingDomains: [])
                                if claimed.isEmpty { break }
                                mine += claimed.map(\.id)
                                for record in claimed { try await store.finish(record.id, owner: owner, DeliveryUpdate(state: .delivered)) }
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(ids.count == 300 && Set(ids).count == 300)
                #expect(try await stores[1].statistics().counts[.delivered] == 300)
            }
        }
    }

    @Test("two instances starting at once apply each migration exactly once")
    func concurrentMigrations() async throws {
        let server = try TestPostgresServer.shared()
        let url = try server.createDatabase()
        try await PostgresBed.withDatabase(url: url, migrate: false) { first in
            try await PostgresBed.withDatabase(url: url, migrate: false) { second in
                async let a = first.migrate()
                async let b = second.migrate()
                let (applied, other) = try await (a, b)
                #expect(Set(applied).isDisjoint(with: other))
                #expect((applied + other).sorted() == PostgresDatabase.migrations.map(\.version).sorted())
                #expect(try await first.migrate().isEmpty)
            }
        }
        #expect(
            try server.psql("SELECT count(*) FROM gateway_migrations", database: String(url.split(separator: "/").last!))
                == String(PostgresDatabase.migrations.count))
    }

    @Test("the replay ledger is shared: another instance's request is a replay, a duplicate, in flight or a conflict")
    func sharedReplayLedger() async throws {
        let url = try TestPostgresServer.shared().createDatabase()
        try await PostgresBed.withDatabase(url: url) { first in
            try await PostgresBed.withDatabase(url: url) { second in
                let a = PostgresReplayLedger(database: first, inFlightHorizon: 10)
                let b = PostgresReplayLedger(database: second, inFlightHorizon: 10)
                func record(_ id: String, _ signature: String, recipients: String = "r1", expires: Int64 = 5_000) -> ReplayCache.Record {
                    ReplayCache.Record(domain: "Beta.test", messageID: id, signature: signature, recipients: recipients, expires: expires)
                }
                func verdict(_ existing: ReplayCache.Record?, _ signature: String, recipients: String = "r1") -> String {
                    guard let existing else { return "fresh" }
                    return switch ReplayProtection.judge(existing, signature: signature, recipients: recipients) {
                    case .replay: "replay"
                    case .inFlight: "in flight"
                    case .conflict: "conflict"
                    case .duplicate(let answer): "duplicate \(answer.status) \(String(decoding: answer.body, as: UTF8.self))"
                    case .fresh, .unavailable: "?"
                    }
                }
                #expect(try await a.remember(record("m1", "sig1"), now: 1_000) == nil)
                #expect(verdict(try await b.remember(record("m1", "sig1"), now: 1_001), "sig1") == "replay")
                #expect(verdict(try await b.remember(record("m1", "sig2"), now: 1_001), "sig2") == "in flight")
                #expect(verdict(try await b.remember(record("m1", "sig3", recipients: "r2"), now: 1_001), "sig3", recipients: "r2") == "conflict")
                try await a.complete(
                    domain: "beta.test", messageID: "m1",
                    answer: GatewayResponse(status: 200, headers: [.init(name: "Content-Type", value: "text/xml")], body: Array("ok".utf8)))
                #expect(verdict(try await b.remember(record("m1", "sig4"), now: 1_002), "sig4") == "duplicate 200 ok")
                // An unanswered record older than the horizon is a dead instance's: a re-signed retry takes it over.
                #expect(try await a.remember(record("m2", "sigA"), now: 1_000) == nil)
                #expect(verdict(try await b.remember(record("m2", "sigB"), now: 1_009), "sigB") == "in flight")
                #expect(try await b.remember(record("m2", "sigB"), now: 1_011) == nil)
                #expect(verdict(try await a.remember(record("m2", "sigA"), now: 1_012), "sigA") == "in flight")
                // Forwarding that ended without a final answer frees the record at once.
                #expect(try await a.remember(record("m4", "sigA"), now: 1_000) == nil)
                try await a.release(domain: "beta.test", messageID: "m4")
                #expect(try await b.remember(record("m4", "sigB"), now: 1_001) == nil)
                // Expired records are replaced; load returns the live ones with their answers.
                #expect(try await a.remember(record("m3", "s", expires: 1_000), now: 1_000) == nil)
                #expect(try await b.remember(record("m3", "t", expires: 9_000), now: 1_001) == nil)
                let loaded = try await b.load(now: 1_500)
                #expect(Set(loaded.map(\.messageID)) == ["m1", "m2", "m3", "m4"])
                #expect(loaded.first { $0.messageID == "m1" }?.answer?.headers == [.init(name: "Content-Type", value: "text/xml")])
                #expect(try await a.prune(now: 5_001) == 3)
            }
        }
    }

    @Test("an unreachable database: health says so and an enqueue fails within timeouts.store instead of waiting")
    func unreachable() async throws {
        let server = try TestPostgresServer()
        let url = try server.createDatabase()
        try await PostgresBed.withDatabase(url: url) { prepared in
            #expect(await PostgresDeliveryStore(database: prepared).health() == nil)
        }
        try await PostgresBed.withDatabase(url: url, migrate: false, deadline: .seconds(8)) { database in
            let store = PostgresDeliveryStore(database: database)
            server.stop()
            let problem = await store.health()
            #expect(problem?.contains("cannot commit") == true)
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) { _ = try await store.enqueue([self.delivery(1)]) }
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test("TLS to the database: verify-full against the given CA works (the session is encrypted); another CA is refused")
    func verifiedTLS() async throws {
        let authority = try TestCertificates()
        let issued = try authority.issue("127.0.0.1", subjectAltNames: ["IP:127.0.0.1"])
        let server = try TestPostgresServer(tls: (issued.cert, issued.key))
        defer { server.stop() }
        let url = try server.createDatabase()
        try await PostgresBed.withDatabase(url: url + "?sslmode=verify-full&sslrootcert=\(authority.caFile)") { database in
            let rows = try await database.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            #expect(try rows.first?.decode(Bool.self) == true)
        }
        // Refused, and the message says why (from a direct attempt: the pool itself only retries).
        let stranger = try TestCertificates()
        let refusal = await #expect(throws: ConfigurationError.self) {
            try await PostgresBed.withDatabase(url: url + "?sslmode=verify-full&sslrootcert=\(stranger.caFile)", deadline: .seconds(3)) { _ in }
        }
        #expect(refusal?.description.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: refusal))")
    }
}
