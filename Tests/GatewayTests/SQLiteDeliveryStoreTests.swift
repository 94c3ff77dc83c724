import Foundation
@testable import Gateway
import Testing

/// The queue store on a real SQLite file.
@Suite("SQLite delivery store")
struct SQLiteDeliveryStoreTests {
    func store() throws -> SQLiteDeliveryStore {
        try SQLiteDeliveryStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)/q.sqlite").path)
    }

    func delivery(_ domain: String, due: Int64, kind: QueuedDelivery.Kind = .iSchedule) -> NewDelivery {
        NewDelivery(kind: kind, domain: domain, messageID: "m-\(domain)", originator: "mailto:a@alpha.test",
                    recipients: ["mailto:x@\(domain)", "mailto:y@\(domain)"], body: Array("BEGIN:VCALENDAR\r\n".utf8), notBefore: due)
    }

    @Test("commits are FULL-synchronous; concurrent enqueues all land (group commit)")
    func durability() async throws {
        let store = try store()
        #expect(try store.synchronousLevel() == 2)
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for index in 0..<200 { group.addTask { try await store.enqueue([self.delivery("d\(index % 7).test", due: 0)]) } }
            var all: [Int64] = []
            for try await part in group { all += part }
            return all
        }
        #expect(Set(ids).count == 200)
        #expect(try await store.statistics().counts[.pending] == 200)
    }

    @Test("claims are leases: due only, oldest first, excluded domains skipped, expired leases come back")
    func leases() async throws {
        let store = try store()
        _ = try await store.enqueue([delivery("a.test", due: 100), delivery("b.test", due: 50), delivery("c.test", due: 500),
                                     delivery("a.test", due: 60, kind: .iMIP)])
        let first = try await store.claim(now: 200, leaseUntil: 1_200, owner: "w1", limit: 10, excludingDomains: ["a.test"])
        // The iSchedule record of a.test is excluded, its iMIP record is not; c.test is not due.
        #expect(first.map(\.domain) == ["b.test", "a.test"])
        #expect(first.map(\.kind) == [.iSchedule, .iMIP])
        #expect(first[0].recipients == ["mailto:x@b.test", "mailto:y@b.test"])
        #expect(try await store.claim(now: 300, leaseUntil: 1_300, owner: "w2", limit: 10, excludingDomains: []).map(\.domain) == ["a.test"])
        // w1 dies; after its lease its records come back (with c.test, due by now); w2's own
        // a.test lease still holds.
        let reclaimed = try await store.claim(now: 1_250, leaseUntil: 2_000, owner: "w2", limit: 10, excludingDomains: [])
        #expect(Set(reclaimed.map(\.id)) == Set(first.map(\.id)).union([3]))
        await #expect(throws: QueueError.leaseLost(first[0].id)) {
            try await store.finish(first[0].id, owner: "w1", DeliveryUpdate(state: .delivered))
        }
        try await store.finish(first[0].id, owner: "w2", DeliveryUpdate(state: .pending, recipients: ["mailto:y@b.test"], nextAttemptAt: 5_000,
                                                                         error: "5.1 busy", spawn: [delivery("b.test", due: 0, kind: .iMIP)]))
        let updated = try #require(try await store.delivery(first[0].id))
        #expect(updated.recipients == ["mailto:y@b.test"] && updated.attempts == 1 && updated.lastError == "5.1 busy" && updated.nextAttemptAt == 5_000)
        #expect(try await store.list(state: .pending, limit: 100).count == 5)
        // A restarted gateway takes back every claim at once (a SQLite queue has one gateway).
        #expect(try await store.recoverAbandonedClaims() == 3)
        // Due at 1300: a.test, c.test, a.test's iMIP record and the spawned one (b.test waits until 5000).
        #expect(try await store.claim(now: 1_300, leaseUntil: 9_000, owner: "w3", limit: 10, excludingDomains: []).count == 4)
    }

    @Test("retry, drop and statistics")
    func administration() async throws {
        let store = try store()
        let ids = try await store.enqueue([delivery("a.test", due: 10_000)])
        #expect(try await store.drop(ids[0]))
        #expect(try await !store.drop(ids[0]))
        #expect(try await store.retry(ids[0], now: 20))
        #expect(try await store.delivery(ids[0])?.nextAttemptAt == 20)
        #expect(try await !store.retry(999, now: 20))
        let statistics = try await store.statistics()
        #expect(statistics.counts[.pending] == 1 && statistics.oldestPendingCreatedAt != nil)
        #expect(await store.health() == nil)
        let done = try await store.enqueue([delivery("z.test", due: 0)])
        let claimed = try await store.claim(now: 1, leaseUntil: 100, owner: "w", limit: 10, excludingDomains: ["a.test"])
        #expect(claimed.map(\.id) == done)
        try await store.finish(done[0], owner: "w", DeliveryUpdate(state: .delivered))
        #expect(try await store.purgeFinished(createdBefore: 0) == 0)
        #expect(try await store.purgeFinished(createdBefore: Int64(Date().timeIntervalSince1970 * 1000) + 1) == 1)
        #expect(try await store.delivery(done[0]) == nil)
        #expect(try await store.delivery(ids[0]) != nil)
    }
}
