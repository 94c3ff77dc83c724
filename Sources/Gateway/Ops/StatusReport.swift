/// What the running gateway knows about each remote domain: its last delivery attempt, its
/// circuit and its queue. Served as `/status.json` (and `/status` as HTML) to the local server's
/// side only; read by `ischedule-gateway status`.
package struct StatusReport: Codable, Sendable, Equatable {
    package struct Remote: Codable, Sendable, Equatable {
        package var domain: String
        /// The last attempt since the gateway started: Unix ms, outcome, what was answered.
        package var lastAttemptAt: Int64?
        package var lastOutcome: String?
        package var lastDetail: String?
        /// `closed`, `failing` (failures counted, still tried) or `open` (not tried until `openUntil`).
        package var circuit: String
        package var consecutiveFailures: Int
        package var openUntil: Int64?
        /// Queued iSchedule deliveries for the domain.
        package var pending: Int
        package var held: Int
        package var failed: Int
        package var oldestPendingCreatedAt: Int64?
    }

    package var version: String
    /// Unix ms.
    package var generatedAt: Int64
    package var localDomains: [String]
    package var remotes: [Remote]
    /// Why the queue part is missing, when the store could not be read.
    package var queueProblem: String?

    /// Joins the three views by domain, sorted by name.
    static func make(
        activity: [String: DeliveryActivity.Attempt], circuits: [String: (failures: Int, openUntil: Int64)],
        queue: Result<[DomainSummary], any Error>, localDomains: [String], now: Int64
    ) -> StatusReport {
        let summaries = (try? queue.get())?.filter { $0.kind == "ischedule" } ?? []
        let domains = Set(activity.keys).union(circuits.keys).union(summaries.map(\.domain))
        let remotes = domains.sorted().map { domain in
            let attempt = activity[domain]
            let circuit = circuits[domain]
            let summary = summaries.first { $0.domain == domain }
            let open = (circuit?.openUntil ?? 0) > now
            return Remote(
                domain: domain, lastAttemptAt: attempt?.at, lastOutcome: attempt?.outcome, lastDetail: attempt?.detail,
                circuit: open ? "open" : (circuit?.failures ?? 0) > 0 ? "failing" : "closed",
                consecutiveFailures: circuit?.failures ?? 0, openUntil: open ? circuit?.openUntil : nil,
                pending: summary?.pending ?? 0, held: summary?.held ?? 0, failed: summary?.failed ?? 0,
                oldestPendingCreatedAt: summary?.oldestPendingCreatedAt)
        }
        var queueProblem: String?
        if case .failure(let error) = queue { queueProblem = "\(error)" }
        return StatusReport(
            version: GatewayIdentity.version, generatedAt: now, localDomains: localDomains, remotes: remotes,
            queueProblem: queueProblem)
    }

    /// `milliseconds` as a person reads an age: 40 s, 12 min, 5 h, 3 d.
    package static func age(_ milliseconds: Int64) -> String { DurationText.describe(seconds: milliseconds / 1000) }
}
