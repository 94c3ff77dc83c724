internal import Foundation
package import Logging

/// The configured store's delivery queue and replay ledger: the SQLite file in the data directory,
/// or a PostgreSQL database (its pool running, its schema migrated) for as long as a body runs.
struct StateStores: Sendable {
    let queue: any DeliveryStore
    let ledger: any ReplayLedger

    /// Opens the stores, runs `body`, and closes what it opened.
    static func withOpen<Result: Sendable>(
        _ configuration: GatewayConfiguration, logger: Logger,
        _ body: @Sendable (StateStores) async throws -> Result
    ) async throws -> Result {
        switch configuration.store {
        case .sqlite:
            let queue = try openQueue(configuration)
            let ledger = try openReplayLedger(configuration)
            // The WAL goes into the file here, not whenever the last reference goes: a clean stop
            // leaves one self-contained file even while a lingering task still holds the store.
            defer { queue.checkpoint() }
            return try await body(StateStores(queue: queue, ledger: ledger))
        case .postgres(let settings):
            return try await database(settings, configuration: configuration, logger: logger).running(migrate: true) { database in
                let horizon = Int64(configuration.timeouts.upstream.rounded(.up)) + 30
                return try await body(
                    StateStores(
                        queue: PostgresDeliveryStore(database: database),
                        ledger: PostgresReplayLedger(database: database, inFlightHorizon: horizon)))
            }
        }
    }

    /// The queue alone (the mail filter and the `queue` command use no replay ledger): opened,
    /// `body` run, closed.
    static func withQueue<Result: Sendable>(
        _ configuration: GatewayConfiguration, logger: Logger,
        _ body: @Sendable (any DeliveryStore) async throws -> Result
    ) async throws -> Result {
        switch configuration.store {
        case .sqlite:
            let queue = try openQueue(configuration)
            defer { queue.checkpoint() }
            return try await body(queue)
        case .postgres(let settings):
            return try await database(settings, configuration: configuration, logger: logger).running(migrate: true) { database in
                try await body(PostgresDeliveryStore(database: database))
            }
        }
    }

    private static func database(_ settings: PostgresSettings, configuration: GatewayConfiguration, logger: Logger) -> PostgresDatabase {
        PostgresDatabase(settings: settings, logger: logger, operationDeadline: .milliseconds(Int64(configuration.timeouts.store * 1000)))
    }

    /// The queue (and replay ledger) database in the data directory, named by its key when unusable.
    static func openQueue(_ configuration: GatewayConfiguration) throws(ConfigurationError) -> SQLiteDeliveryStore {
        let opened: Swift.Result<SQLiteDeliveryStore, any Error> = Swift.Result { try SQLiteDeliveryStore(path: configuration.queuePath) }
        switch opened {
        case .success(let store): return store
        case .failure(let error as SQLiteDeliveryStore.CorruptDatabase):
            throw ConfigurationError(key: "data-directory", problem: error.description)
        case .failure(let error):
            throw ConfigurationError(key: "data-directory", problem: "cannot open the queue \(configuration.queuePath): \(error)")
        }
    }

    /// The replay ledger, in the same state database, named by its key when unusable.
    static func openReplayLedger(_ configuration: GatewayConfiguration) throws(ConfigurationError) -> SQLiteReplayLedger {
        do { return try SQLiteReplayLedger(path: configuration.queuePath) } catch {
            throw ConfigurationError(key: "data-directory", problem: "cannot open the replay ledger in \(configuration.queuePath): \(error)")
        }
    }
}

/// The `queue` command's view of the configured store.
package enum QueueAccess {
    /// Runs `body` with the queue of `configuration`'s store. A SQLite file that does not exist yet
    /// (the gateway never started) is an empty queue, and is not created.
    package static func withQueue<Result: Sendable>(
        _ configuration: GatewayConfiguration, logger: Logger,
        _ body: @Sendable (any QueueInspector) async throws -> Result
    ) async throws -> Result {
        if case .sqlite = configuration.store, !FileManager.default.fileExists(atPath: configuration.queuePath) {
            return try await body(NoQueueYet())
        }
        return try await StateStores.withQueue(configuration, logger: logger) { queue in try await body(queue) }
    }

    /// Runs `body` with the queue of the PostgreSQL database at `url` (no password; schema migrated).
    /// - Parameter deadline: per store operation (a test process whose cooperative threads other
    ///   tests block for seconds needs more than the service's 8 s).
    package static func withPostgresQueue<Result: Sendable>(
        url: String, logger: Logger, deadline: Duration = .seconds(8),
        _ body: @Sendable (any DurableQueue) async throws -> Result
    ) async throws -> Result {
        let settings = try PostgresSettings(url: url, password: nil, paths: PathResolver(directory: "/"), caFile: nil)
        return try await PostgresDatabase(settings: settings, logger: logger, operationDeadline: deadline).running(migrate: true) { database in
            try await body(PostgresDeliveryStore(database: database))
        }
    }
}

/// The queue of a gateway that has not started yet: empty, and nothing in it to change.
struct NoQueueYet: QueueInspector {
    func delivery(_ id: Int64) async throws -> QueuedDelivery? { nil }
    func list(state: QueuedDelivery.State?, limit: Int) async throws -> [QueuedDelivery] { [] }
    func retry(_ id: Int64, now: Int64) async throws -> Bool { false }
    func drop(_ id: Int64) async throws -> Bool { false }
    func statistics() async throws -> QueueStatistics { QueueStatistics(counts: [:], oldestPendingCreatedAt: nil) }
    func hold(_ id: Int64, now: Int64) async throws -> Bool { false }
    func release(_ id: Int64, now: Int64) async throws -> Bool { false }
    func handOff(_ id: Int64, to records: [NewDelivery], now: Int64) async throws -> Bool { false }
    func summary() async throws -> [DomainSummary] { [] }
}
