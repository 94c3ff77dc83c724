/// Keeps the replay cache across restarts: a request accepted before a restart is still refused
/// as a replay afterwards, until its `x=`. Written before the request is forwarded.
protocol ReplayLedger: Sendable {
    /// Unexpired records, for `ReplayCache.restore`.
    func load(now: Int64) async throws -> [ReplayCache.Record]
    /// Inserts or replaces the record of (domain, message id).
    func remember(_ record: ReplayCache.Record) async throws
    /// Stores the answer given to (domain, message id), for the sender's retries.
    func complete(domain: String, messageID: String, answer: GatewayResponse) async throws
    /// Deletes records whose `x=` has passed.
    func prune(now: Int64) async throws -> Int
}
