/// Group commit: writes that arrive while a commit is running wait and go together in the next
/// transaction, so N concurrent requests cost one durable commit (one fsync), not N. Used by
/// the queue (enqueues) and the replay ledger (records of fresh requests, and their answers).
actor GroupCommit<Item: Sendable, Output: Sendable> {
    /// Commits every item of a batch in one transaction; returns each item's output, in order.
    typealias Commit = @Sendable ([Item]) async throws -> [Output]

    private let commit: Commit
    private var waiting: [(item: Item, continuation: CheckedContinuation<Output, any Error>)] = []
    private var flushing = false

    init(commit: @escaping Commit) {
        self.commit = commit
    }

    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((item, continuation))
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
                let outputs = try await commit(batch.map(\.item))
                for (entry, output) in zip(batch, outputs) { entry.continuation.resume(returning: output) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
