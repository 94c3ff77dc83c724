internal import Foundation

/// One queued delivery: a message for one remote domain (iSchedule) or one mailbox (iMIP), with
/// the recipients it still covers. Stored unsigned; every attempt signs afresh (new t/x, same
/// iSchedule-Message-ID, so receivers can recognise a retry).
package struct QueuedDelivery: Sendable, Equatable {
    /// `mail`: a complete e-mail built at receipt (`delivery: imip` domains), sent as it is.
    /// `reinject`: an e-mail handed back to the MTA (`imip-intake.reinject-url`) for its recipients
    /// (bare mailboxes) from `envelopeSender`: the mail filter's original e-mail for recipients
    /// iSchedule did not deliver, or a delivery status notification (null sender) about them.
    package enum Kind: String, Sendable, CaseIterable {
        case iSchedule = "ischedule"
        case iMIP = "imip"
        case mail, reinject
    }
    package enum State: String, Sendable, CaseIterable {
        case pending, delivered, failed, dropped
        /// Kept back by the administrator (`queue hold`) until released.
        case held
        /// Its recipients went on in other records (iMIP fallback).
        case handedOff = "handed-off"
    }

    package let id: Int64
    package var kind: Kind
    package var state: State
    /// The remote domain (iSchedule) or the recipient's domain (iMIP): the unit of concurrency
    /// limits and circuit breaking.
    package var domain: String
    package var messageID: String
    package var originator: String
    package var recipients: [String]
    package var body: [UInt8]
    /// Unix milliseconds.
    package var createdAt: Int64
    package var nextAttemptAt: Int64
    package var attempts: Int
    package var lastError: String?
    /// The final word (request-status, SMTP reply) once delivered or failed.
    package var outcome: String?
    /// The envelope sender of a mail-filter record's e-mail, or of a `reinject` record (`""`: none, a bounce).
    package var envelopeSender: String? = nil
    /// A mail-filter record's original e-mail: what each recipient iSchedule does not deliver gets instead.
    package var originalMail: [UInt8]? = nil
}

/// A delivery to put in the queue.
package struct NewDelivery: Sendable, Equatable {
    package var kind: QueuedDelivery.Kind
    package var domain: String
    package var messageID: String
    package var originator: String
    package var recipients: [String]
    package var body: [UInt8]
    /// Unix milliseconds of the first (or next) attempt.
    package var notBefore: Int64
    /// Attempts already made (the live one counts).
    package var attempts: Int
    package var lastError: String?
    /// See `QueuedDelivery.envelopeSender` and `.originalMail`.
    package var envelopeSender: String?
    package var originalMail: [UInt8]?

    package init(
        kind: QueuedDelivery.Kind, domain: String, messageID: String, originator: String, recipients: [String],
        body: [UInt8], notBefore: Int64, attempts: Int = 0, lastError: String? = nil, envelopeSender: String? = nil,
        originalMail: [UInt8]? = nil
    ) {
        self.kind = kind
        self.domain = domain
        self.messageID = messageID
        self.originator = originator
        self.recipients = recipients
        self.body = body
        self.notBefore = notBefore
        self.attempts = attempts
        self.lastError = lastError
        self.envelopeSender = envelopeSender
        self.originalMail = originalMail
    }
}

/// What an attempt did to a claimed record, applied in one transaction with the records it spawns.
struct DeliveryUpdate: Sendable, Equatable {
    package var state: QueuedDelivery.State
    /// Recipients still covered (when some were delivered and the rest wait).
    package var recipients: [String]?
    package var nextAttemptAt: Int64?
    package var error: String?
    package var outcome: String?
    /// Whether this was an attempt (counts towards max-attempts) or only a postponement.
    package var countsAsAttempt: Bool
    /// New records, e.g. one iMIP record per recipient handed to e-mail.
    package var spawn: [NewDelivery]

    init(
        state: QueuedDelivery.State, recipients: [String]? = nil, nextAttemptAt: Int64? = nil, error: String? = nil,
        outcome: String? = nil, countsAsAttempt: Bool = true, spawn: [NewDelivery] = []
    ) {
        self.state = state
        self.recipients = recipients
        self.nextAttemptAt = nextAttemptAt
        self.error = error
        self.outcome = outcome
        self.countsAsAttempt = countsAsAttempt
        self.spawn = spawn
    }
}

/// How many records are in each state, and how old the oldest pending one is.
package struct QueueStatistics: Sendable, Equatable {
    package var counts: [QueuedDelivery.State: Int]
    package var oldestPendingCreatedAt: Int64?
}

/// What the `queue` command sees of either store, and may change.
package protocol QueueInspector: Sendable {
    func delivery(_ id: Int64) async throws -> QueuedDelivery?
    func list(state: QueuedDelivery.State?, limit: Int) async throws -> [QueuedDelivery]
    /// Makes a pending, failed or dropped record pending and due now. False when there is no such record.
    func retry(_ id: Int64, now: Int64) async throws -> Bool
    /// Marks a pending or held record dropped (kept for the record, never attempted again).
    func drop(_ id: Int64) async throws -> Bool
    func statistics() async throws -> QueueStatistics
    /// Keeps a pending record back until released. False when it is not pending, or an attempt is running now.
    func hold(_ id: Int64, now: Int64) async throws -> Bool
    /// Makes a held record pending and due now.
    func release(_ id: Int64, now: Int64) async throws -> Bool
    /// Replaces a pending, held or failed iSchedule record (not being attempted now) by `records`
    /// (iMIP, one per recipient) in one transaction, marking it handed off. False when it is not such a record.
    func handOff(_ id: Int64, to records: [NewDelivery], now: Int64) async throws -> Bool
    /// Per kind and domain: how many records wait, are held or failed, and since when the oldest waits.
    func summary() async throws -> [DomainSummary]
}

/// One line of `queue summary`.
package struct DomainSummary: Sendable, Equatable, Codable {
    package var kind: String
    package var domain: String
    package var pending: Int
    package var held: Int
    package var failed: Int
    /// Unix milliseconds of the oldest pending record's creation.
    package var oldestPendingCreatedAt: Int64?
}

/// Where deliveries are committed before the gateway promises them (benchmarks use it directly).
package protocol DurableQueue: Sendable {
    /// Returns once the records are committed, with their ids in order.
    func enqueue(_ deliveries: [NewDelivery]) async throws -> [Int64]
}

/// The durable delivery queue. `enqueue` returns only once the records are committed (fsync'd):
/// the gateway answers 1.0/1.1 after that and never before. Claims are leases, so records of a
/// worker that died come back when the lease runs out. One SQLite file per gateway, or one PostgreSQL
/// database shared by several instances.
protocol DeliveryStore: QueueInspector, DurableQueue {
    /// Due pending records not leased by anyone, oldest first, leased to `owner` until `leaseUntil`;
    /// iSchedule records of `excludingDomains` (busy or circuit open) are left alone.
    func claim(now: Int64, leaseUntil: Int64, owner: String, limit: Int, excludingDomains: Set<String>) async throws -> [QueuedDelivery]
    /// Applies an attempt's result to a record this owner claimed, clearing the lease.
    func finish(_ id: Int64, owner: String, _ update: DeliveryUpdate) async throws
    /// Deletes finished records (delivered, handed off, failed, dropped) created before `cutoff`.
    func purgeFinished(createdBefore cutoff: Int64) async throws -> Int
    /// Called once when a worker starts: claims that no running worker can hold any more (other
    /// than `owner`'s own) come back now instead of when their lease runs out. Returns how many.
    func recoverAbandonedClaims(except owner: String) async throws -> Int
    /// Commits records already claimed by `owner` until `leaseUntil`: a live attempt still running
    /// (`LiveAttempt`) finishes them; no worker claims them before the lease runs out. Their ids, in order.
    func enqueueClaimed(_ deliveries: [NewDelivery], owner: String, leaseUntil: Int64) async throws -> [Int64]
    /// Nil when a commit would succeed now; else what stands in the way (for /healthz).
    func health() async -> String?
    /// Commits in one transaction each of `deliveries` with only those recipients not committed
    /// before under `submission` (the same mail delivered again by the MTA, or in another batch of
    /// recipients): each (submission, recipient) is committed once, ever. Returns what was committed.
    func enqueueNew(_ deliveries: [NewDelivery], submission: String) async throws -> [NewDelivery]
    /// Which of `recipients` were committed under `submission` before.
    func committedRecipients(submission: String, among recipients: [String]) async throws -> Set<String>
}

/// Why a queue operation failed.
enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The record's lease ran out and another worker claimed it; this attempt's result is dropped.
    case leaseLost(Int64)

    var description: String {
        switch self {
        case .leaseLost(let id): "lease on delivery \(id) was lost"
        }
    }
}

/// Keys both stores write the same way.
enum DeliveryStoreKeys {
    /// One recipient of one submission (`enqueueNew`), the address compared without case.
    static func submission(_ submission: String, _ recipient: String) -> String { submission + "\n" + recipient.lowercased() }

    /// Submission keys live as long as finished records, and never less than a week: longer than an
    /// MTA keeps retrying a message (Postfix: `maximal_queue_lifetime`, 5 days).
    static func submissionCutoff(_ finishedCutoff: Int64, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> Int64 {
        min(finishedCutoff, now - 7 * 86_400_000)
    }
}
