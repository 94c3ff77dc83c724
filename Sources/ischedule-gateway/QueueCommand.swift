import ArgumentParser
import Foundation
import Gateway
import Logging

/// `queue list|summary|show|retry|drop|hold|release|force-imip`: the delivery queue of the
/// configured gateway (the store `serve` uses; safe while it runs), in the manner of Postfix's
/// postqueue/postsuper.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and manage the delivery queue.",
        subcommands: [List.self, Summary.self, Show.self, Retry.self, Drop.self, Hold.self, Release.self, ForceIMIP.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "Configuration file (default: the one serve would use).")
        var config: String?

        /// Runs `body` with the configured queue (SQLite file or PostgreSQL).
        @Option(name: .customLong("env-file"), help: "Read environment variables (KEY=VALUE lines) first, e.g. the store's password.")
        var envFile: String?

        /// Applies a one-record change; prints `done`, or fails with `refused` when the store says no.
        func change(
            _ id: Int64, done: String, refused: String,
            _ action: @Sendable @escaping (any QueueInspector, _ now: Int64) async throws -> Bool
        ) async throws {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard try await withQueue({ try await action($0, now) }) else { throw CLIError("delivery \(id) \(refused)") }
            print("delivery \(id) \(done)")
        }

        func withQueue<Result: Sendable>(_ body: @Sendable (any QueueInspector) async throws -> Result) async throws -> Result {
            let configuration = try ConfigFile.load(config, envFile: envFile, requireSecrets: false)
            do { return try await QueueAccess.withQueue(configuration, logger: Logger(label: "ischedule-gateway"), body) } catch let error
                as ConfigurationError
            {
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
        @Flag(help: "One JSON array of records instead of the table.")
        var json = false

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
            if json {
                print(try QueueText.json(rows.map(QueueText.Record.init)))
                return
            }
            print("ID\tSTATE\tKIND\tATTEMPTS\tNEXT ATTEMPT\tDOMAIN\tRECIPIENTS")
            for row in rows {
                print(
                    "\(row.id)\t\(row.state.rawValue)\t\(row.kind.rawValue)\t\(row.attempts)\t\(QueueText.time(row.nextAttemptAt))\t"
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
            print(
                """
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
        static let configuration = CommandConfiguration(abstract: "Make a pending, failed or dropped delivery due now (held: use release).")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            try await options.change(id, done: "is due now", refused: "does not exist or is delivered / handed off / held (nothing to retry)") {
                [id] in try await $0.retry(id, now: $1)
            }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop attempting a pending or held delivery (kept, marked dropped).")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            try await options.change(id, done: "dropped", refused: "does not exist or is not pending or held") { [id] store, _ in
                try await store.drop(id)
            }
        }
    }
}

extension QueueCommand {
    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per remote domain: records waiting, held and failed, and the oldest wait.")
        @OptionGroup var options: Options
        @Flag(help: "JSON instead of the table.")
        var json = false

        func run() async throws {
            let lines = try await options.withQueue { try await $0.summary() }
            if json {
                print(try QueueText.json(lines))
                return
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            print("KIND\tDOMAIN\tPENDING\tHELD\tFAILED\tOLDEST WAITING")
            for line in lines {
                let age = line.oldestPendingCreatedAt.map { QueueText.age(now - $0) } ?? "-"
                print("\(line.kind)\t\(line.domain)\t\(line.pending)\t\(line.held)\t\(line.failed)\t\(age)")
            }
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keep a pending delivery back (no attempts) until released.")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            try await options.change(id, done: "held", refused: "does not exist, is not pending, or is being attempted right now") {
                [id] in try await $0.hold(id, now: $1)
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a held delivery pending and due now.")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            try await options.change(id, done: "released, due now", refused: "does not exist or is not held") { [id] in
                try await $0.release(id, now: $1)
            }
        }
    }

    struct ForceIMIP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "force-imip", abstract: "Send a waiting, held or failed iSchedule delivery's recipients by e-mail (iMIP) now.")
        @OptionGroup var options: Options
        @Argument(help: "The delivery's ID.")
        var id: Int64

        func run() async throws {
            let configuration = try ConfigFile.load(options.config, envFile: options.envFile, requireSecrets: false)
            guard configuration.mailsFallbacks else { throw CLIError("imip is not configured: there is no e-mail to hand the delivery to") }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            switch try await options.withQueue({ [id] in try await $0.forceIMIP(id, now: now) }) {
            case .handedOff(let count): print("delivery \(id) handed to iMIP: \(count) e-mail(s) queued")
            case .noSuchDelivery: throw CLIError("no delivery \(id)")
            case .refused(let reason): throw CLIError(reason)
            }
        }
    }
}

enum QueueText {
    /// A record as `queue list --json` prints it.
    struct Record: Encodable {
        let id: Int64, state: String, kind: String, domain: String, messageID: String, originator: String, recipients: [String]
        let created: String, nextAttempt: String, attempts: Int, lastError: String?, outcome: String?

        init(_ row: QueuedDelivery) {
            (id, state, kind, domain, messageID, originator, recipients) = (
                row.id, row.state.rawValue, row.kind.rawValue, row.domain,
                row.messageID, row.originator, row.recipients
            )
            (created, nextAttempt, attempts, lastError, outcome) = (
                QueueText.time(row.createdAt), QueueText.time(row.nextAttemptAt),
                row.attempts, row.lastError, row.outcome
            )
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `3d 4h`, `2h 5m`, `12m 3s`, `40s`.
    static func age(_ milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds / 1000)
        let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(seconds % 60)s" }
        return "\(seconds)s"
    }

    static func time(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
