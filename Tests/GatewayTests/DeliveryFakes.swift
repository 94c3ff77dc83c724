import ISchedule
import Synchronization
import TestSupport

@testable import Gateway

/// A fake `DeliveryStore` (named as one): it keeps what is enqueued and finished in memory and can
/// refuse commits; the queue operations the decision points never use throw. The stores
/// themselves are tested for real (SQLite and PostgreSQL) in DeliveryStoreTests.
final class DeliveryStoreFake: DeliveryStore {
    struct NotPartOfTheFake: Error {}
    struct CommitRefused: Error {}

    private let state = Mutex<(enqueued: [NewDelivery], finished: [(Int64, DeliveryUpdate)], refuses: Bool)>(([], [], false))

    init(refusesCommits: Bool = false) { state.withLock { $0.refuses = refusesCommits } }

    var enqueued: [NewDelivery] { state.withLock { $0.enqueued } }
    var finished: [(id: Int64, update: DeliveryUpdate)] { state.withLock { $0.finished } }

    func enqueue(_ deliveries: [NewDelivery]) async throws -> [Int64] {
        try state.withLock { state in
            guard !state.refuses else { throw CommitRefused() }
            let first = state.enqueued.count + 1
            state.enqueued += deliveries
            return deliveries.indices.map { Int64(first + $0) }
        }
    }

    func enqueueClaimed(_ deliveries: [NewDelivery], owner: String, leaseUntil: Int64) async throws -> [Int64] {
        try await enqueue(deliveries)
    }

    func finish(_ id: Int64, owner: String, _ update: DeliveryUpdate) async throws {
        state.withLock { $0.finished.append((id, update)) }
    }

    func health() async -> String? { nil }
    func delivery(_ id: Int64) async throws -> QueuedDelivery? { throw NotPartOfTheFake() }
    func list(state: QueuedDelivery.State?, limit: Int) async throws -> [QueuedDelivery] { throw NotPartOfTheFake() }
    func retry(_ id: Int64, now: Int64) async throws -> Bool { throw NotPartOfTheFake() }
    func drop(_ id: Int64) async throws -> Bool { throw NotPartOfTheFake() }
    func statistics() async throws -> QueueStatistics { throw NotPartOfTheFake() }
    func hold(_ id: Int64, now: Int64) async throws -> Bool { throw NotPartOfTheFake() }
    func release(_ id: Int64, now: Int64) async throws -> Bool { throw NotPartOfTheFake() }
    func handOff(_ id: Int64, to records: [NewDelivery], now: Int64) async throws -> Bool { throw NotPartOfTheFake() }
    func summary() async throws -> [DomainSummary] { throw NotPartOfTheFake() }
    func claim(now: Int64, leaseUntil: Int64, owner: String, limit: Int, excludingDomains: Set<String>) async throws -> [QueuedDelivery] {
        throw NotPartOfTheFake()
    }
    func purgeFinished(createdBefore cutoff: Int64) async throws -> Int { throw NotPartOfTheFake() }
    func recoverAbandonedClaims(except owner: String) async throws -> Int { throw NotPartOfTheFake() }
    func enqueueNew(_ deliveries: [NewDelivery], submission: String) async throws -> [NewDelivery] { throw NotPartOfTheFake() }
    func committedRecipients(submission: String, among recipients: [String]) async throws -> Set<String> { throw NotPartOfTheFake() }
}

/// A fake `DeliveryTransport` (named as one): answers each recipient with the status its table
/// gives for the recipient's address (1.2 when the table has none), and records whom it was asked for.
final class DeliveryTransportFake: DeliveryTransport {
    private let table: [String: RequestStatus]
    private let asked = Mutex<[[String]]>([])

    init(_ table: [String: RequestStatus] = [:]) { self.table = table }

    var calls: [[String]] { asked.withLock { $0 } }

    func deliver(_ message: DeliveryMessage, to indices: [Int]) async -> RecipientAnswers {
        asked.withLock { $0.append(indices.map { message.recipients[$0].text }) }
        var answers = message.noAnswers
        for index in indices {
            let status = table[message.recipients[index].text] ?? .delivered
            answers.answer(index, status, description: "fake answer \(status.code)")
        }
        return answers
    }
}

/// What the decision-point tests share: a fixed clock, a policy without jitter, a message.
enum DecisionFixtures {
    static let now: Int64 = 1_700_000_000_000
    static let clock = GatewayClock { now }
    static let settings = GatewayConfiguration.DeliverySettings(
        retryInitial: 2, retryMaximum: 60, maxAttempts: 3, maxAge: 3600, concurrency: 4, perDomainConcurrency: 2,
        pollInterval: 1, lease: 300, circuitFailures: 5, circuitCooldown: 60, keepFinished: 3600)
    static let policy = DeliveryPolicy(settings: settings, random: { 0.5 })

    static func message(_ recipients: [String], method: String = "REQUEST", component: String = "VEVENT") throws -> DeliveryMessage {
        let body = ITIP.calendar(method: method, component: component, organizer: "mailto:alice@alpha.test", attendees: recipients)
        return try DeliveryMessage(originator: "mailto:alice@alpha.test", recipients: recipients, body: body, messageID: "m-1")
    }
}
