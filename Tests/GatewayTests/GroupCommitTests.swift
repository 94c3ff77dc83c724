import Foundation
import Synchronization
import Testing

@testable import Gateway

/// Group commit: concurrent writers share commits, each gets its own result; the SQLite replay
/// ledger built on it keeps every record and answer, and its writer stays at synchronous = FULL.
@Suite struct GroupCommitTests {
    @Test func concurrentSubmissionsShareCommitsAndGetTheirOwnResults() async throws {
        let batches = Mutex<[Int]>([])
        let commit = GroupCommit<Int, Int> { items in
            batches.withLock { $0.append(items.count) }
            try await Task.sleep(for: .milliseconds(20))
            return items.map { $0 * 10 }
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for item in 0..<50 { group.addTask { (item, try await commit.submit(item)) } }
            var results: [Int: Int] = [:]
            for try await (item, output) in group { results[item] = output }
            return results
        }
        #expect(results.count == 50 && results.allSatisfy { $0.value == $0.key * 10 })
        let sizes = batches.withLock { $0 }
        #expect(sizes.reduce(0, +) == 50)
        #expect(sizes.count < 50, "50 concurrent writers took \(sizes.count) commits: \(sizes)")
    }

    @Test func aFailedCommitFailsEveryWriterOfItsBatchAndTheNextBatchStillRuns() async throws {
        let calls = Mutex(0)
        let commit = GroupCommit<Int, Int> { items in
            let call = calls.withLock { value -> Int in
                value += 1
                return value
            }
            if call == 1 { throw CancellationError() }
            return items
        }
        await #expect(throws: CancellationError.self) { try await commit.submit(1) }
        #expect(try await commit.submit(2) == 2)
    }

    @Test func theSQLiteLedgerKeepsEveryRecordAndAnswer() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)/state.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let now = Int64(Date().timeIntervalSince1970)
        let ledger = try SQLiteReplayLedger(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let record = ReplayCache.Record(domain: "Alpha.Test", messageID: "m\(index)", signature: "b\(index)", expires: now + 600)
                    #expect(try await ledger.remember(record, now: now) == nil)
                    if index.isMultiple(of: 2) {
                        try await ledger.complete(domain: "alpha.test", messageID: "m\(index)", answer: .text(200, "answer \(index)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await ledger.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        let reloaded = try await SQLiteReplayLedger(path: path).load(now: now)
        #expect(reloaded.count == 100)
        let answered = reloaded.filter { $0.answer != nil }
        #expect(answered.count == 50)
        #expect(answered.allSatisfy { String(decoding: $0.answer?.body ?? [], as: UTF8.self) == "answer \($0.messageID.dropFirst())" })
    }
}
