import ArgumentParser
import Foundation
import Gateway
import Logging

/// `queue list|show|retry|drop`: the delivery queue of the configured gateway (the same file
/// `serve` uses; safe while it runs).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and manage the delivery queue.",
        subcommands: [List.self, Show.self, Retry.self, Drop.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "Configuration file (default: the one serve would use).")
        var config: String?

        /// Runs `body` with the configured queue (SQLite file or PostgreSQL).
        @Option(name: .customLong("env-file"), help: "Read environment variables (KEY=VALUE lines) first, e.g. the store's password.")
        var envFile: String?

        func withQueue<Result: Sendable>(_ body: @Sendable (any QueueInspector) async throws -> Result) async throws -> Result {
            let configuration = try ConfigFile.load(config, envFile: envFile, requireSecrets: false)
            do { return try await QueueAccess.withQueue(configuration, logger: Logger(label: "ischedule-gateway"), body) } catch let error as ConfigurationError {
                throw CLIError("\(error)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued deliveries, oldest first.")
        @OptionGroup var options: Options
        @Option(help: "Only this state: \(QueuedDelivery.State.allCases.map(\.rawValue).joined(separator: ", ")).")
        var state: String?
        @Option(help: "At most this many rows.")
        var limit = 1000

        func run() async throws {
            var wanted: QueuedDelivery.State?
            if let state {
                guard let parsed = QueuedDelivery.State(rawValue: state) else {
                    throw ValidationError("--state \(state): not one of \(QueuedDelivery.State.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                wanted = parsed
            }
            let (rows, statistics) = try await options.withQueue { [limit, wanted] store in
                (try await store.list(state: wanted, limit: limit), try await store.statistics())
            }
            print("ID\tSTATE\tKIND\tATTEMPTS\tNEXT ATTEMPT\tDOMAIN\tRECIPIENTS")
            for row in rows {
                print("\(row.id)\t\(row.state.rawValue)\t\(row.kind.rawValue)\t\(row.attempts)\t\(QueueText.time(row.nextAttemptAt))\t"
                      + "\(row.domain)\t\(row.recipients.joined(separator: ","))")
            }
            let summary = QueuedDelivery.State.allCases.map { "\($0.rawValue) \(statistics.counts[$0] ?? 0)" }.joined(separator: ", ")
            printError("\(rows.count) shown; queue: \(summary)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one delivery in full.")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID (from queue list).")
        var id: Int64

        func run() async throws {
            guard let row = try await options.withQueue({ [id] in try await $0.delivery(id) }) else { throw CLIError("no delivery \(id)") }
            print("""
                id: \(row.id)
                state: \(row.state.rawValue)
                kind: \(row.kind.rawValue)
                domain: \(row.domain)
                ischedule-message-id: \(row.messageID)
                originator: \(row.originator)
                recipients: \(row.recipients.joined(separator: ", "))
                created: \(QueueText.time(row.createdAt))
                attempts: \(row.attempts)
                next attempt: \(QueueText.time(row.nextAttemptAt))
                last error: \(row.lastError ?? "-")
                outcome: \(row.outcome ?? "-")
                body (\(row.body.count) octets):
                """)
            print(String(decoding: row.body, as: UTF8.self), terminator: "")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a pending, failed or dropped delivery due now.")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard try await options.withQueue({ [id] in try await $0.retry(id, now: now) }) else {
                throw CLIError("delivery \(id) does not exist or is delivered / handed off (nothing to retry)")
            }
            print("delivery \(id) is due now")
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop attempting a pending delivery (kept, marked dropped).")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            guard try await options.withQueue({ [id] in try await $0.drop(id) }) else { throw CLIError("delivery \(id) does not exist or is not pending") }
            print("delivery \(id) dropped")
        }
    }
}

enum QueueText {
    static func time(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
