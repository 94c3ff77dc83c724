import ArgumentParser
import Foundation
import Gateway
import Logging

/// `store migrate`: moves a SQLite queue's pending deliveries and live replay records into the
/// PostgreSQL store the configuration names.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Manage the state store (queue and replay ledger).",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a SQLite queue's pending deliveries and replay records into the configured PostgreSQL store.",
            discussion: """
                Stop the gateway that uses the SQLite file first. The PostgreSQL schema is created or
                updated as serve would. Moved records keep their age, attempts and next attempt, and are
                marked handed-off in the SQLite file; running it again moves nothing twice.
                """
        )

        @Option(help: "Configuration file whose store: is the PostgreSQL destination (default: the one serve would use).")
        var config: String?

        @Option(name: .customLong("env-file"), help: "Read environment variables (KEY=VALUE lines) first, e.g. the store's password.")
        var envFile: String?

        @Option(name: .customLong("from-sqlite"), help: "The SQLite file (default: queue.sqlite in the configuration's data-directory).")
        var sqlite: String?

        func run() async throws {
            let configuration = try ConfigFile.load(config, envFile: envFile, requireSecrets: false)
            let source = sqlite ?? configuration.queuePath
            do {
                let moved = try await StoreMove.fromSQLite(path: source, configuration: configuration, logger: Logger(label: "ischedule-gateway"))
                print(
                    "moved \(moved.deliveries) pending deliveries and \(moved.replayRecords) replay records from \(source) to \(moved.destination)"
                        + (moved.alreadyMoved > 0 ? " (\(moved.alreadyMoved) moved by an earlier run)" : ""))
            } catch let error as ConfigurationError {
                throw CLIError("\(error)")
            }
        }
    }
}
