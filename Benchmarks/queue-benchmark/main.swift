import Foundation
import Gateway
import GRDB
import Logging
import TestSupport

/// Durable enqueues per second (each caller waits until its record is committed with
/// synchronous=FULL: the gateway's 1.0/1.1 invariant) beside raw SQLite insert speed on the same
/// disk in the same run; then the same through the PostgreSQL store (a server started for the run
/// from Debian's package on this disk, or the one QUEUE_BENCHMARK_POSTGRES names).
/// Usage: queue-benchmark [records] [concurrency]
let arguments = CommandLine.arguments
let records = arguments.count > 1 ? Int(arguments[1]) ?? 5000 : 5000
let concurrency = arguments.count > 2 ? Int(arguments[2]) ?? 64 : 64
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("queue-benchmark-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let body = Array(String(repeating: "DESCRIPTION:benchmark body line\r\n", count: 40).utf8)

func delivery(_ index: Int) -> NewDelivery {
    NewDelivery(kind: .iSchedule, domain: "d\(index % 50).example", messageID: "m\(index)", originator: "mailto:a@example.com",
                recipients: ["mailto:r\(index)@d\(index % 50).example"], body: body, notBefore: 0)
}

func rate(_ count: Int, _ seconds: Double) -> String { String(format: "%8.0f/s", Double(count) / seconds) }

func timed(_ work: () async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await work()
    let elapsed = start.duration(to: .now)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func rawInserts(synchronous: String, transactionPerRow: Bool, count: Int) throws -> Double {
    let queue = try DatabaseQueue(path: directory.appendingPathComponent("raw-\(UUID().uuidString).sqlite").path)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = WAL")
        try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, domain TEXT, recipients TEXT, body BLOB, due INTEGER)")
    }
    let start = Date()
    if transactionPerRow {
        for index in 0..<count {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO t (domain, recipients, body, due) VALUES (?, ?, ?, ?)",
                               arguments: ["d\(index % 50).example", "mailto:r\(index)@x", Data(body), 0])
            }
        }
    } else {
        try queue.write { db in
            for index in 0..<count {
                try db.execute(sql: "INSERT INTO t (domain, recipients, body, due) VALUES (?, ?, ?, ?)",
                               arguments: ["d\(index % 50).example", "mailto:r\(index)@x", Data(body), 0])
            }
        }
    }
    return Date().timeIntervalSince(start)
}

/// Concurrent callers (group commit), then one caller at a time: (seconds, seconds).
func measure(_ store: any DurableQueue) async throws -> (grouped: Double, sequential: Double) {
    let grouped = try await timed {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let perTask = records / concurrency
            for task in 0..<concurrency {
                group.addTask {
                    for index in 0..<perTask { _ = try await store.enqueue([delivery(task * perTask + index)]) }
                }
            }
            try await group.waitForAll()
        }
    }
    let sequential = try await timed {
        for index in 0..<sequentialCount { _ = try await store.enqueue([delivery(records + index)]) }
    }
    return (grouped, sequential)
}

let store = try SQLiteDeliveryStore(path: directory.appendingPathComponent("queue.sqlite").path)
let level = try store.synchronousLevel()
precondition(level == 2, "the queue must run with synchronous=FULL")
let enqueued = (records / concurrency) * concurrency
let sequentialCount = min(records, 1000)
let (grouped, sequential) = try await measure(store)
let rawBatch = try rawInserts(synchronous: "FULL", transactionPerRow: false, count: records)
let rawFull = try rawInserts(synchronous: "FULL", transactionPerRow: true, count: sequentialCount)
let rawNormal = try rawInserts(synchronous: "NORMAL", transactionPerRow: true, count: records)

print("queue-benchmark: \(records) records of \(body.count)-octet bodies, WAL, on \(directory.deletingLastPathComponent().path)")
print("durable enqueue, group commit, \(concurrency) concurrent callers  \(rate(enqueued, grouped))   (target >= 2000/s)")
print("durable enqueue, one caller at a time                     \(rate(sequentialCount, sequential))")
print("raw SQLite, one transaction per row, synchronous=FULL     \(rate(sequentialCount, rawFull))")
print("raw SQLite, one transaction per row, synchronous=NORMAL   \(rate(records, rawNormal))   (not durable across power loss)")
print("raw SQLite, all rows in one transaction, synchronous=FULL \(rate(records, rawBatch))   (upper bound)")

// PostgreSQL: fsync=on and synchronous_commit=on (its defaults), so a commit is as durable as SQLite's FULL.
var server: TestPostgresServer?
let postgresURL: String
if let given = ProcessInfo.processInfo.environment["QUEUE_BENCHMARK_POSTGRES"] {
    postgresURL = given
} else if TestPostgresServer.isInstalled {
    let started = try TestPostgresServer()
    server = started
    postgresURL = try started.createDatabase("queue_benchmark")
} else {
    print("PostgreSQL: not installed here (deploy/install-deps.sh installs it), or set QUEUE_BENCHMARK_POSTGRES=postgresql://USER@HOST/DB")
    exit(0)
}
let postgres = try await QueueAccess.withPostgresQueue(url: postgresURL, logger: Logger(label: "queue-benchmark")) { try await measure($0) }
server?.stop()
print("PostgreSQL store (\(server == nil ? postgresURL : "a server started for this run, on \(directory.deletingLastPathComponent().path)"))")
print("durable enqueue, group commit, \(concurrency) concurrent callers  \(rate(enqueued, postgres.grouped))   "
      + String(format: "(%.2f x SQLite)", grouped / postgres.grouped))
print("durable enqueue, one caller at a time                     \(rate(sequentialCount, postgres.sequential))   "
      + String(format: "(%.2f x SQLite)", sequential / postgres.sequential))
