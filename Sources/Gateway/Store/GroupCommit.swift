/// Group commit: enqueues that arrive while a commit is running wait and go together in the next
/// transaction, so N concurrent requests cost one durable commit (one fsync), not N.
actor EnqueueBatcher {
    /// Commits every group of a batch in one transaction; returns each group's new ids, in order.
    typealias Commit = @Sendable ([[NewDelivery]]) async throws -> [[Int64]]

    private let commit: Commit
    private var waiting: [(deliveries: [NewDelivery], continuation: CheckedContinuation<[Int64], any Error>)] = []
    private var flushing = false

    init(commit: @escaping Commit) {
        self.commit = commit
    }

    func submit(_ deliveries: [NewDelivery]) async throws -> [Int64] {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((deliveries, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !waiting.isEmpty {
            let batch = waiting
            waiting = []
            do {
                let ids = try await commit(batch.map(\.deliveries))
                for (entry, entryIDs) in zip(batch, ids) { entry.continuation.resume(returning: entryIDs) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
