import Foundation
import Logging
import TestSupport
import TestTraits
import Testing

@testable import Gateway

/// Both queue stores against the same expectations: a real SQLite file, and a real PostgreSQL
/// server started for the test.
@Suite("Delivery store (SQLite and PostgreSQL)", .waitsOnProcesses)
struct DeliveryStoreTests {
    enum Kind: String, CaseIterable, Sendable { case sqlite, postgres }

    func sqliteStore() throws -> SQLiteDeliveryStore {
        try SQLiteDeliveryStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)/q.sqlite").path)
    }

    /// Runs `body` with a new, empty store of `kind`.
    func withStore(_ kind: Kind, _ body: @Sendable (any DeliveryStore) async throws -> Void) async throws {
        switch kind {
        case .sqlite: try await body(try sqliteStore())
        case .postgres: try await PostgresBed.withDatabase { database in try await body(PostgresDeliveryStore(database: database)) }
        }
    }

    func delivery(_ domain: String, due: Int64, kind: QueuedDelivery.Kind = .iSchedule) -> NewDelivery {
        NewDelivery(
            kind: kind, domain: domain, messageID: "m-\(domain)", originator: "mailto:a@alpha.test",
            recipients: ["mailto:x@\(domain)", "mailto:y@\(domain)"], body: Array("BEGIN:VCALENDAR\r\n".utf8), notBefore: due)
    }

    @Test("SQLite commits are FULL-synchronous")
    func synchronousFull() throws {
        #expect(try sqliteStore().synchronousLevel() == 2)
    }

    @Test("concurrent enqueues all land (group commit)", arguments: Kind.allCases)
    func durability(kind: Kind) async throws {
        try await withStore(kind) { store in
            let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for index in 0..<200 { group.addTask { try await store.enqueue([self.delivery("d\(index % 7).test", due: 0)]) } }
                var all: [Int64] = []
                for try await part in group { all += part }
                return all
            }
            #expect(Set(ids).count == 200)
            #expect(try await store.statistics().counts[.pending] == 200)
        }
    }

    @Test("each (submission, recipient) is committed once, however often and in whatever batches it comes", arguments: Kind.allCases)
    func enqueueNew(kind: Kind) async throws {
        try await withStore(kind) { store in
            let records = [delivery("a.test", due: 0), delivery("b.test", due: 0)]
            #expect(try await store.enqueueNew(records, submission: "imip-intake:1").count == 2)
            #expect(try await store.enqueueNew(records, submission: "imip-intake:1").isEmpty)
            // A batch that overlaps: only the new recipient is committed, in a record of its own.
            var overlap = delivery("a.test", due: 0)
            overlap.recipients = ["mailto:X@a.test", "mailto:z@a.test"]
            #expect(try await store.enqueueNew([overlap], submission: "imip-intake:1").map(\.recipients) == [["mailto:z@a.test"]])
            #expect(try await store.statistics().counts[.pending] == 3)
            // Another submission, and plain enqueues, are not affected.
            #expect(try await store.enqueueNew([delivery("c.test", due: 0)], submission: "imip-intake:2").count == 1)
            _ = try await store.enqueue([delivery("d.test", due: 0), delivery("d.test", due: 0)])
            #expect(
                try await store.list(state: .pending, limit: 10).map(\.domain).sorted() == [
                    "a.test", "a.test", "b.test", "c.test", "d.test", "d.test"
                ])
            // The mail filter's fields survive the store.
            var returned = delivery("e.test", due: 0)
            (returned.envelopeSender, returned.originalMail) = ("", Array("Subject: x\r\n\r\n".utf8))
            let id = try await store.enqueue([returned])[0]
            let read = try await store.delivery(id)
            #expect(read?.envelopeSender == "" && read?.originalMail == Array("Subject: x\r\n\r\n".utf8))
        }
    }

    @Test("claims are leases: due only, oldest first, excluded domains skipped, expired leases come back", arguments: Kind.allCases)
    func leases(kind: Kind) async throws {
        try await withStore(kind) { store in
            _ = try await store.enqueue([
                delivery("a.test", due: 100), delivery("b.test", due: 50), delivery("c.test", due: 500),
                delivery("a.test", due: 60, kind: .iMIP)
            ])
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
            try await store.finish(
                first[0].id, owner: "w2",
                DeliveryUpdate(
                    state: .pending, recipients: ["mailto:y@b.test"], nextAttemptAt: 5_000,
                    error: "5.1 busy", spawn: [delivery("b.test", due: 0, kind: .iMIP)]))
            let updated = try #require(try await store.delivery(first[0].id))
            #expect(
                updated.recipients == ["mailto:y@b.test"] && updated.attempts == 1 && updated.lastError == "5.1 busy"
                    && updated.nextAttemptAt == 5_000)
            #expect(try await store.list(state: .pending, limit: 100).count == 5)
            switch kind {
            case .sqlite:
                // A restarted gateway takes back every claim at once (a SQLite queue has one gateway).
                #expect(try await store.recoverAbandonedClaims(except: "this-process") == 3)
                // Due at 1300: a.test, c.test, a.test's iMIP record and the spawned one (b.test waits until 5000).
                #expect(try await store.claim(now: 1_300, leaseUntil: 9_000, owner: "w3", limit: 10, excludingDomains: []).count == 4)
            case .postgres:
                // Shared by several instances: a starting one never takes live claims of the others.
                #expect(try await store.recoverAbandonedClaims(except: "this-process") == 0)
                // At 1300 only w2's first lease (until 1300) has run out, besides the spawned record.
                let now = try await store.claim(now: 1_300, leaseUntil: 9_000, owner: "w3", limit: 10, excludingDomains: [])
                #expect(Set(now.map(\.domain)) == ["a.test", "b.test"] && now.count == 2)
                #expect(try await store.claim(now: 2_000, leaseUntil: 9_000, owner: "w3", limit: 10, excludingDomains: []).count == 2)
            }
        }
    }

    @Test("retry, drop and statistics", arguments: Kind.allCases)
    func administration(kind: Kind) async throws {
        try await withStore(kind) { store in
            let ids = try await store.enqueue([delivery("a.test", due: 10_000)])
            // Ids come back in the order of the records.
            let several = try await store.enqueue(["p.test", "q.test", "r.test"].map { delivery($0, due: 10_000) })
            for (id, domain) in zip(several, ["p.test", "q.test", "r.test"]) { #expect(try await store.delivery(id)?.domain == domain) }
            for id in several { #expect(try await store.drop(id)) }
            #expect(try await store.drop(ids[0]))
            #expect(try await !store.drop(ids[0]))
            #expect(try await store.retry(ids[0], now: 20))
            #expect(try await store.delivery(ids[0])?.nextAttemptAt == 20)
            #expect(try await !store.retry(999, now: 20))
            let statistics = try await store.statistics()
            #expect(statistics.counts[.pending] == 1 && statistics.counts[.dropped] == 3 && statistics.oldestPendingCreatedAt != nil)
            #expect(await store.health() == nil)
            let done = try await store.enqueue([delivery("z.test", due: 0)])
            let claimed = try await store.claim(now: 1, leaseUntil: 100, owner: "w", limit: 10, excludingDomains: ["a.test"])
            #expect(claimed.map(\.id) == done)
            try await store.finish(done[0], owner: "w", DeliveryUpdate(state: .delivered))
            #expect(try await store.purgeFinished(createdBefore: 0) == 0)
            #expect(try await store.purgeFinished(createdBefore: Int64(Date().timeIntervalSince1970 * 1000) + 1) == 4)
            #expect(try await store.delivery(done[0]) == nil)
            #expect(try await store.delivery(ids[0]) != nil)
        }
    }

    @Test(
        "hold keeps a record from claims until released; force-imip hands an iSchedule record to e-mail; summary per domain",
        arguments: Kind.allCases)
    func control(kind: Kind) async throws {
        try await withStore(kind) { store in
            let ids = try await store.enqueue([delivery("a.test", due: 100), delivery("a.test", due: 100), delivery("b.test", due: 100)])
            #expect(try await store.hold(ids[0], now: 50))
            #expect(try await !store.hold(ids[0], now: 50))
            #expect(try await store.claim(now: 200, leaseUntil: 900, owner: "w", limit: 10, excludingDomains: []).map(\.id) == [ids[1], ids[2]])
            // Being attempted now: neither held nor handed off.
            #expect(try await !store.hold(ids[1], now: 300))
            #expect(try await store.forceIMIP(ids[1], now: 300) == .refused("delivery \(ids[1]) is being attempted right now; try again in a moment"))
            try await store.finish(ids[1], owner: "w", DeliveryUpdate(state: .pending, nextAttemptAt: 5_000, error: "5.1"))
            try await store.finish(ids[2], owner: "w", DeliveryUpdate(state: .failed, error: "5.3"))
            let summary = try await store.summary()
            #expect(
                summary.map { "\($0.kind) \($0.domain) \($0.pending) \($0.held) \($0.failed)" } == [
                    "ischedule a.test 1 1 0", "ischedule b.test 0 0 1"
                ])
            #expect(summary[0].oldestPendingCreatedAt != nil && summary[1].oldestPendingCreatedAt == nil)
            // force-imip on the held record: one iMIP record per mailto: recipient, the original handed off.
            #expect(try await store.forceIMIP(ids[0], now: 400) == .handedOff(recipients: 2))
            #expect(try await store.delivery(ids[0])?.state == .handedOff)
            let mails = try await store.list(state: .pending, limit: 10).filter { $0.kind == .iMIP }
            #expect(mails.map(\.recipients) == [["mailto:x@a.test"], ["mailto:y@a.test"]] && mails.allSatisfy { $0.messageID == "m-a.test" })
            #expect(try await store.forceIMIP(mails[0].id, now: 400) == .refused("delivery \(mails[0].id) is already an iMIP record"))
            #expect(try await store.forceIMIP(999, now: 400) == .noSuchDelivery)
            // Release makes a held record due now; a pending one cannot be released.
            #expect(try await store.hold(ids[1], now: 400))
            #expect(try await store.release(ids[1], now: 450))
            #expect(try await !store.release(ids[1], now: 450))
            #expect(try await store.delivery(ids[1])?.nextAttemptAt == 450)
        }
    }
}
