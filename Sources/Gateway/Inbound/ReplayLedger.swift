/// Keeps the replay cache across restarts: a request accepted before a restart is still refused
/// as a replay afterwards, until its `x=`. Written before the request is forwarded.
protocol ReplayLedger: Sendable {
    /// Unexpired records, for `ReplayCache.restore`.
    func load(now: Int64) async throws -> [ReplayCache.Record]
    /// Records a request the cache found fresh. A ledger shared by several instances may already
    /// hold a live record of (domain, message id) from another: then nothing is written and that
    /// record comes back, for the caller to judge (replay, duplicate, conflict or in flight).
    func remember(_ record: ReplayCache.Record, now: Int64) async throws -> ReplayCache.Record?
    /// Stores the answer given to (domain, message id), for the sender's retries.
    func complete(domain: String, messageID: String, answer: GatewayResponse) async throws
    /// Forwarding ended without a final answer: a re-signed retry may be processed again at once,
    /// wherever it arrives.
    func release(domain: String, messageID: String) async throws
    /// Deletes records whose `x=` has passed.
    func prune(now: Int64) async throws -> Int
}
