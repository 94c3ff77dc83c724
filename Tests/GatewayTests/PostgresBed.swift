import Logging
import TestSupport

@testable import Gateway

/// A real PostgreSQL server for store tests (one per test process), a new database in it per test, the
/// gateway's pool running and its schema migrated while the body runs.
enum PostgresBed {
    static func settings(_ url: String) throws -> PostgresSettings {
        try PostgresSettings(url: url, password: nil, paths: PathResolver(directory: "/"), caFile: nil)
    }

    static func withDatabase(_ body: @Sendable (PostgresDatabase) async throws -> Void) async throws {
        try await withDatabase(url: try TestPostgresServer.shared().createDatabase(), body)
    }

    /// - Parameter deadline: generous by default: synchronous tests of the same process can hold
    ///   the cooperative threads (two on this machine) for seconds, and the deadline is wall time.
    static func withDatabase(
        url: String, migrate: Bool = true, deadline: Duration = .seconds(120),
        _ body: @Sendable (PostgresDatabase) async throws -> Void
    ) async throws {
        try await PostgresDatabase(settings: try settings(url), logger: Logger(label: "test-postgres"), operationDeadline: deadline)
            .running(migrate: migrate, body)
    }
}
