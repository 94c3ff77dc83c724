internal import Foundation
internal import ISchedule
internal import Logging
internal import Synchronization

/// The live attempt of an outbound message, answered within `timeouts.remote-request`, never cut
/// short by it: what a receiver has not answered by then is committed to the queue as records
/// already claimed by this attempt, answered 1.0, and concluded by the attempt itself when its
/// transfer ends (`timeouts.remote-transfer` at most). No retry can start while the first attempt
/// may still deliver, so a slow receiver never gets the same message twice; only a process
/// killed with attempts in flight leaves their records to be tried again once the lease runs out.
struct LiveAttempt: Sendable {
    let transport: any DeliveryTransport
    let handoff: QueueHandoff
    let conclusion: AttemptConclusion
    /// A domain whose receiver has not answered within `answerWithin` has failed the live path:
    /// its circuit counts it then, so that further messages are queued at once while it is open.
    let circuit: CircuitBreaker
    let store: any DeliveryStore
    /// The process's lease owner (the worker's): its own leases survive the worker's start.
    let owner: String
    let answerWithin: Duration
    /// How long the records stay claimed: longer than any transfer (`delivery.lease`).
    let leaseMilliseconds: Int64
    let transfers: LiveTransfers
    let logger: Logger

    func deliver(_ message: DeliveryMessage, to indices: [Int]) async -> RecipientAnswers {
        guard !indices.isEmpty else { return message.noAnswers }
        // Free-busy is answered live or not at all: its own timeout ends its transfer.
        if message.isFreeBusy { return await handoff.settle(await transport.deliver(message, to: indices), of: message) }
        let state = LiveAttemptState(message.recipients, waitingFor: indices)
        let transport = transport
        let conclude = conclude
        transfers.start {
            _ = await transport.deliver(message, to: indices) { part in await conclude(state.arrived(part), message) }
            await conclude(state.ended(), message)
        }
        await state.waitUntilAnswered(atMost: answerWithin)
        let (answered, unanswered) = state.cutOff()
        let settled = await handoff.settle(answered, of: message)
        guard !unanswered.isEmpty else { return settled }
        return settled.merging(await handOver(unanswered, of: message, state: state))
    }

    /// Commits the unanswered recipients' records, claimed by this attempt, and answers them 1.0.
    private func handOver(_ indices: [Int], of message: DeliveryMessage, state: LiveAttemptState) async -> RecipientAnswers {
        let now = handoff.clock.milliseconds()
        var groups: [String: [Int]] = [:]
        for index in indices { groups[message.recipients[index].address?.domain ?? "", default: []].append(index) }
        let ordered = groups.sorted { $0.key < $1.key }
        for (domain, _) in ordered where circuit.recordFailure(domain, now: now) {
            logger.warning("\(domain): circuit open for \(circuit.cooldown / 1000) s: no answer within timeouts.remote-request")
        }
        let records = ordered.map { domain, group in
            NewDelivery(
                kind: .iSchedule, domain: domain, messageID: message.messageID, originator: message.originator,
                recipients: group.map { message.recipients[$0].text }, body: message.body, notBefore: now,
                lastError: "the first attempt is still waiting for the receiver")
        }
        let ids: [Int64]
        do {
            ids = try await store.enqueueClaimed(records, owner: owner, leaseUntil: now + leaseMilliseconds)
        } catch {
            logger.error("could not queue \(records.count) deliveries still in flight: \(error)")
            state.abandon()
            return message.answers(indices, .serviceUnavailable, "could not be queued")
        }
        handoff.metrics.queued(retries: indices.count, fallbacks: 0)
        let claimed = zip(ids, zip(records, ordered)).map { id, pair in
            LiveAttemptState.Claimed(
                record: QueuedDelivery(
                    id: id, kind: .iSchedule, state: .pending, domain: pair.0.domain, messageID: pair.0.messageID, originator: pair.0.originator,
                    recipients: pair.0.recipients, body: pair.0.body, createdAt: now, nextAttemptAt: now, attempts: 0, lastError: pair.0.lastError,
                    outcome: nil), indices: pair.1.value)
        }
        _ = transfers.hold(claimed.map(\.record.id))
        let ready = state.handedOver(claimed)
        if !ready.isEmpty { transfers.start { [conclude] in await conclude(ready, message) } }
        return message.answers(indices, .pending, "queued: no answer from the receiver within timeouts.remote-request; the attempt goes on")
    }

    /// Applies what the attempt found to records it holds, as the worker would after its own attempt.
    private var conclude: @Sendable ([(LiveAttemptState.Claimed, RecipientAnswers)], DeliveryMessage) async -> Void {
        { [store, owner, conclusion, transfers, logger] ready, message in
            for (claimed, answers) in ready {
                let update = conclusion.update(for: claimed.record, message: message, answers: answers)
                do { try await store.finish(claimed.record.id, owner: owner, update) } catch {
                    logger.error("could not record the live attempt's result for delivery \(claimed.record.id): \(error)")
                }
                transfers.release([claimed.record.id])
            }
        }
    }
}

/// The recipients' answers as the transfer brings them, the request's wait for them, and the
/// records that take over what was not answered in time. One lock; nothing awaits inside it.
final class LiveAttemptState: Sendable {
    struct Claimed: Sendable {
        let record: QueuedDelivery
        let indices: [Int]
    }

    private enum Phase { case answering, handingOver, handedOver, abandoned }

    private struct State {
        var phase = Phase.answering
        var answers: RecipientAnswers
        var waiting: Set<Int>
        var waiter: CheckedContinuation<Void, Never>?
        var waitEnded = false
        var claimed: [Claimed] = []

        /// The claimed records whose recipients are all answered, taken out.
        mutating func takeReady() -> [(Claimed, RecipientAnswers)] {
            var ready: [(Claimed, RecipientAnswers)] = []
            var kept: [Claimed] = []
            for record in claimed {
                if record.indices.allSatisfy({ answers[$0] != nil }) {
                    ready.append((record, answers.restricted(to: record.indices)))
                } else {
                    kept.append(record)
                }
            }
            claimed = kept
            return ready
        }

        /// Ends the request's wait: the waiter to resume, if it is waiting.
        mutating func releaseWaiter() -> CheckedContinuation<Void, Never>? {
            waitEnded = true
            defer { waiter = nil }
            return waiter
        }
    }

    private let state: Mutex<State>

    init(_ recipients: [ScheduleRequestHead.Recipient], waitingFor indices: [Int]) {
        state = Mutex(State(answers: RecipientAnswers(recipients: recipients), waiting: Set(indices)))
    }

    /// Answers from the transfer; claimed records now complete, to conclude.
    func arrived(_ part: RecipientAnswers) -> [(Claimed, RecipientAnswers)] {
        let (ready, waiter) = state.withLock { state -> ([(Claimed, RecipientAnswers)], CheckedContinuation<Void, Never>?) in
            guard state.phase != .abandoned else { return ([], nil) }
            for answer in part where state.answers[answer.index] == nil {
                state.answers.take(answer.index, from: part)
                state.waiting.remove(answer.index)
            }
            let waiter = state.waiting.isEmpty ? state.releaseWaiter() : nil
            return (state.phase == .handedOver ? state.takeReady() : [], waiter)
        }
        waiter?.resume()
        return ready
    }

    /// The transfer ended: recipients it never answered count as a failure for now (5.1).
    func ended() -> [(Claimed, RecipientAnswers)] {
        let missing = state.withLock { state in
            RecipientAnswers(
                recipients: state.answers.recipients, state.claimed.flatMap(\.indices).filter { state.answers[$0] == nil },
                .serviceUnavailable, "the attempt ended without an answer")
        }
        return arrived(missing)
    }

    /// Returns once every recipient is answered, or after `limit`.
    func waitUntilAnswered(atMost limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForAll() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
            state.withLock { $0.releaseWaiter() }?.resume()
        }
    }

    private func waitForAll() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.waiting.isEmpty || state.waitEnded { return true }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The request answers now: what is answered, and the indices still waiting.
    func cutOff() -> (answered: RecipientAnswers, unanswered: [Int]) {
        state.withLock { state in
            state.phase = state.waiting.isEmpty ? .handedOver : .handingOver
            return (state.answers, state.waiting.sorted())
        }
    }

    /// The records for the unanswered recipients are committed: late answers go to them.
    func handedOver(_ records: [Claimed]) -> [(Claimed, RecipientAnswers)] {
        state.withLock { state in
            state.phase = .handedOver
            state.claimed = records
            return state.takeReady()
        }
    }

    /// Nothing was committed: late answers have nowhere to go.
    func abandon() { state.withLock { $0.phase = .abandoned } }
}

/// The live attempts whose transfers go on after their request was answered: the worker waits for
/// them at shutdown (within `timeouts.shutdown-grace`), as for its own attempts. It also knows
/// which queue records an attempt of this process holds, live or the worker's: a claim of one of
/// them (its lease ran out while the attempt still runs) is given back, never attempted twice.
final class LiveTransfers: Sendable {
    private let running = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))
    private let holding = Mutex<Set<Int64>>([])

    /// Marks `ids` as held by an attempt of this process; false for those another attempt holds.
    func hold(_ ids: [Int64]) -> [Bool] {
        holding.withLock { held in ids.map { held.insert($0).inserted } }
    }

    func release(_ ids: [Int64]) {
        holding.withLock { held in for id in ids { held.remove(id) } }
    }

    /// Runs `work` beyond the request that started it (unstructured, counted).
    func start(_ work: @escaping @Sendable () async -> Void) {
        running.withLock { $0.count += 1 }
        Task {
            await work()
            let waiters = running.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.count -= 1
                guard state.count == 0 else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Returns when none is running (or at once when the caller is cancelled).
    func drained() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = running.withLock { state -> Bool in
                    if state.count == 0 || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiters = running.withLock { state -> [CheckedContinuation<Void, Never>] in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }
}
