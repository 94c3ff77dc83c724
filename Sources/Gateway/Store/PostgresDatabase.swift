internal import Foundation
internal import Logging
internal import NIOSSL
internal import PostgresNIO
internal import Synchronization

/// The connection pool to a PostgreSQL store that several gateway instances share, and its schema.
/// The pool works only while `run()` runs (a long-lived task beside the gateway's services).
final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let settings: PostgresSettings
    let logger: Logger
    /// The last health verdict and when it was taken (probes are at most one every 2 s).
    private let lastHealth = Mutex<(at: Int64, problem: String?)>((0, nil))

    /// - Parameter operationDeadline: how long an operation may take, waiting for a connection
    ///   included (`timeouts.store`). The pool keeps trying an unreachable server for about a
    ///   minute; the gateway must answer 5.1 long before that.
    init(settings: PostgresSettings, logger: Logger, maximumConnections: Int = 16, operationDeadline: Duration = .seconds(8)) {
        self.operationDeadline = operationDeadline
        var configuration: PostgresClient.Configuration
        switch settings.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: settings.username, password: settings.password,
                database: settings.database, tls: Self.tls(settings).map { .require($0) } ?? .disable)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: settings.username, password: settings.password, database: settings.database)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = maximumConnections
        self.settings = settings
        self.logger = logger
        // The pool's own chatter (e.g. a lease asked for in the instant before `run()` starts) stays
        // out of the log; failures reach it through the operations and the health probe.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
    }

    let operationDeadline: Duration

    /// The TLS the settings ask for: the server's chain and name (or address) always verified.
    static func tls(_ settings: PostgresSettings) -> TLSConfiguration? {
        guard case .verifyFull(let caFile) = settings.security else { return nil }
        var context = TLSConfiguration.makeClientConfiguration()
        context.certificateVerification = .fullVerification
        if let caFile { context.trustRoots = .file(caFile) }
        return context
    }

    /// Runs one statement; its rows.
    @discardableResult
    func query(_ query: PostgresQuery, deadline: Duration? = nil) async throws -> [PostgresRow] {
        try await withDeadline(deadline ?? operationDeadline) { try await self.client.query(query, logger: self.logger).collect() }
    }

    /// `body` in one transaction (committed when it returns, rolled back when it throws); its own
    /// error comes out as is.
    func transaction<Result: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withDeadline(operationDeadline) {
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await self.client.withTransaction(logger: self.logger) { connection in try await body(connection) })
            } catch let error as PostgresTransactionError {
                outcome = .failure(error.closureError ?? error)
            } catch {
                outcome = .failure(error)
            }
            return try outcome.get()
        }
    }

    /// `body`, or an error once `deadline` has passed (then `body` is cancelled).
    private func withDeadline<Result: Sendable>(
        _ deadline: Duration,
        _ body: @Sendable @escaping () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self, returning: Result.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                throw PostgresStoreError("\(settings.description) did not answer within \(deadline)")
            }
            return first
        }
    }

    /// Runs `body` while the pool runs (after migrating the schema, when asked); the pool stops when it returns.
    func running<Result: Sendable>(migrate: Bool, _ body: @Sendable (PostgresDatabase) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await self.client.run() }
            let outcome: Swift.Result<Result, any Error>
            do {
                if migrate {
                    do { try await self.migrate() } catch {
                        let cause = await self.connectionProblem() ?? Self.describe(error)
                        throw ConfigurationError(key: "store", problem: "cannot prepare \(settings.description): \(cause)")
                    }
                }
                outcome = .success(try await body(self))
            } catch {
                outcome = .failure(error)
            }
            group.cancelAll()
            return try outcome.get()
        }
    }

    /// An error's full text (PSQLError's `description` hides the server's message), shortened.
    static func describe(_ error: any Error) -> String {
        String(String(reflecting: error).prefix(300))
    }

    /// Versioned schema changes, each applied once, in one transaction under an advisory lock, so
    /// two instances starting together neither race nor apply one twice.
    static let migrations: [(version: String, statements: [String])] = [
        (
            "deliveries-v1",
            [
                """
                CREATE TABLE deliveries (
                    id BIGSERIAL PRIMARY KEY,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    originator TEXT NOT NULL,
                    recipients TEXT NOT NULL,
                    body BYTEA NOT NULL,
                    created_at BIGINT NOT NULL,
                    next_attempt_at BIGINT NOT NULL,
                    lease_until BIGINT NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT,
                    outcome TEXT)
                """,
                "CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending'",
                "CREATE INDEX deliveries_state ON deliveries (state, created_at)"
            ]
        ),
        (
            "replay-v1",
            [
                """
                CREATE TABLE replay (
                    domain TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    recipients TEXT NOT NULL DEFAULT '',
                    expires BIGINT NOT NULL,
                    remembered_at BIGINT NOT NULL,
                    answer_status BIGINT,
                    answer_headers TEXT,
                    answer_body BYTEA,
                    PRIMARY KEY (domain, message_id))
                """,
                "CREATE INDEX replay_expires ON replay (expires)"
            ]
        ),
        ("health-v1", ["CREATE TABLE health (instance TEXT PRIMARY KEY, at BIGINT NOT NULL)"]),
        // Where a record moved from (`store migrate`), so that moving twice inserts nothing twice.
        ("deliveries-v2", ["ALTER TABLE deliveries ADD COLUMN origin TEXT UNIQUE"]),
        // A mail-filter record's way back to e-mail, and the (submission, recipient) pairs committed.
        (
            "deliveries-v3",
            [
                "ALTER TABLE deliveries ADD COLUMN envelope_sender TEXT",
                "ALTER TABLE deliveries ADD COLUMN original_mail BYTEA",
                "CREATE TABLE submissions (key TEXT PRIMARY KEY, created_at BIGINT NOT NULL)",
                "CREATE INDEX submissions_created ON submissions (created_at)"
            ]
        )
    ]

    /// Arbitrary, fixed: the advisory lock that serialises migrations.
    private static let migrationLock: Int64 = 0x1_5C4E_D01E

    /// Applies the migrations this database has not seen; returns their versions.
    @discardableResult
    func migrate() async throws -> [String] {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS gateway_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: self.logger)
            var applied = Set<String>()
            for try await version in try await connection.query("SELECT version FROM gateway_migrations", logger: self.logger).decode(String.self) {
                applied.insert(version)
            }
            var new: [String] = []
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                try await connection.query("INSERT INTO gateway_migrations (version) VALUES (\(migration.version))", logger: self.logger)
                new.append(migration.version)
            }
            return new
        }
    }

    /// Nil when the database answers a query; else why not (for `--check-config`, which writes nothing).
    func reachable() async -> String? {
        do {
            try await query("SELECT 1", deadline: .seconds(5))
            return nil
        } catch {
            return "cannot reach \(settings.description): \(await connectionProblem() ?? Self.describe(error))"
        }
    }

    /// A write failed: not ready at once, until the next probe (at most 2 s away) commits again.
    func noteCommitFailure(_ error: any Error) {
        guard !(error is QueueError || error is CancellationError) else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        lastHealth.withLock { $0 = (now, "queue store \(settings.description) cannot commit: \(Self.describe(error))") }
    }

    /// Whether a commit would succeed now (a real write of this instance's health row). At most one
    /// probe every 2 s; callers in between get its verdict.
    func health(instance: String) async -> String? {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if let cached = lastHealth.withLock({ now - $0.at < 2_000 ? $0 : nil }) { return cached.problem }
        var problem: String?
        do {
            try await query(
                """
                INSERT INTO health (instance, at) VALUES (\(instance), \(now)) ON CONFLICT (instance) DO UPDATE SET at = excluded.at
                """, deadline: .seconds(3))
        } catch {
            problem = "queue store \(settings.description) cannot commit: \(Self.describe(error))"
        }
        lastHealth.withLock { $0 = (now, problem) }
        return problem
    }
}
