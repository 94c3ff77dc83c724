import Foundation
import Logging
import TestSupport
import TestTraits
import Testing

@testable import Gateway

/// `queue summary/list --json/hold/release/force-imip` through the binary, against either store.
@Suite("queue control", .waitsOnProcesses)
struct QueueControlTests {
    enum Kind: String, CaseIterable, Sendable { case sqlite, postgres }

    @Test("queue summary, list --json, hold, release and force-imip", arguments: Kind.allCases)
    func control(kind: Kind) async throws {
        let work = GatewayProcess.temporaryDirectory("queue-control")
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var store = "sqlite"
        if kind == .postgres { store = try TestPostgresServer.shared().createDatabase() }
        let configuration = work.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.receiving()
        yaml.merge([
            "store": .scalar(store), "imip": ["smtp-url": "smtp://127.0.0.1:9", "from": "gateway@alpha.test", "require-tls": false]
        ])
        try yaml.write(to: configuration)
        let records = ["beta.test", "beta.test", "gamma.test"].enumerated().map { index, domain in
            NewDelivery(
                kind: .iSchedule, domain: domain, messageID: "m\(index)", originator: "mailto:alice@alpha.test",
                recipients: ["mailto:bob\(index)@\(domain)"], body: Array("BEGIN:VCALENDAR\r\n".utf8),
                notBefore: Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000, attempts: 1, lastError: "5.1 busy")
        }
        let ids: [Int64]
        switch kind {
        case .sqlite: ids = try await SQLiteDeliveryStore(path: work.appendingPathComponent("data/queue.sqlite").path).enqueue(records)
        case .postgres:
            ids = try await QueueAccess.withPostgresQueue(url: store, logger: Logger(label: "test"), deadline: .seconds(120)) {
                try await $0.enqueue(records)
            }
        }
        let config = ["--config", configuration.path]
        let summary = try GatewayBinary.run(["queue", "summary"] + config)
        #expect(summary.status == 0)
        #expect(
            summary.output.contains("ischedule\tbeta.test\t2\t0\t0\t") && summary.output.contains("ischedule\tgamma.test\t1\t0\t0\t"),
            "\(summary.output)")
        #expect(try GatewayBinary.run(["queue", "hold", String(ids[0])] + config).output == "delivery \(ids[0]) held\n")
        let held = try GatewayBinary.run(["queue", "list", "--state", "held", "--json"] + config)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(held.output.utf8)) as? [[String: Any]], "\(held.output)")
        #expect(
            rows.count == 1 && rows[0]["id"] as? Int == Int(ids[0]) && rows[0]["state"] as? String == "held"
                && rows[0]["recipients"] as? [String] == ["mailto:bob0@beta.test"] && rows[0]["lastError"] as? String == "5.1 busy")
        #expect(try GatewayBinary.run(["queue", "summary"] + config).output.contains("ischedule\tbeta.test\t1\t1\t0\t"))
        let again = try GatewayBinary.run(["queue", "hold", String(ids[0])] + config)
        #expect(again.status == 1 && again.output.contains("is not pending"))
        #expect(try GatewayBinary.run(["queue", "release", String(ids[0])] + config).output == "delivery \(ids[0]) released, due now\n")
        let forced = try GatewayBinary.run(["queue", "force-imip", String(ids[2])] + config)
        #expect(forced.output == "delivery \(ids[2]) handed to iMIP: 1 e-mail(s) queued\n", "\(forced.output)")
        let mails = try GatewayBinary.run(["queue", "list", "--state", "pending", "--json"] + config)
        let pending = try #require(try JSONSerialization.jsonObject(with: Data(mails.output.utf8)) as? [[String: Any]])
        #expect(pending.contains { $0["kind"] as? String == "imip" && $0["recipients"] as? [String] == ["mailto:bob2@gamma.test"] })
        let twice = try GatewayBinary.run(["queue", "force-imip", String(ids[2])] + config)
        #expect(twice.status == 1 && twice.output.contains("is handed-off, not pending, held or failed"))
    }

    @Test("a store with a password: store-password-env from --env-file; without it, or wrong, a precise refusal naming the store")
    func storePassword() throws {
        let database = try TestPostgresServer(password: "pg-s3cret")
        defer { database.stop() }
        let work = GatewayProcess.temporaryDirectory("store-password")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let configuration = work.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.receiving()
        yaml.merge([
            "store": .scalar(try database.createDatabase()), "store-password-env": "QUEUE_TEST_STORE_PASSWORD", "timeouts": ["store": "3s"]
        ])
        try yaml.write(to: configuration)
        let environment = work.appendingPathComponent("secrets.env")
        try "QUEUE_TEST_STORE_PASSWORD=pg-s3cret\n".write(to: environment, atomically: true, encoding: .utf8)
        let list = try GatewayBinary.run(["queue", "list", "--config", configuration.path, "--env-file", environment.path])
        #expect(list.status == 0 && list.output.contains("0 shown; queue: pending 0"), "\(list.output)")
        let unset = try GatewayBinary.run(["queue", "list", "--config", configuration.path])
        #expect(
            unset.status == 1 && unset.output.contains("store-password-env: environment variable QUEUE_TEST_STORE_PASSWORD is not set"),
            "\(unset.output)")
        try "QUEUE_TEST_STORE_PASSWORD=Wr0ng-pw-77\n".write(to: environment, atomically: true, encoding: .utf8)
        let wrong = try GatewayBinary.run(["queue", "list", "--config", configuration.path, "--env-file", environment.path])
        #expect(wrong.status == 1 && wrong.output.contains("store: cannot prepare postgresql://gateway@127.0.0.1:"), "\(wrong.output)")
        #expect(wrong.output.contains("28P01") || wrong.output.lowercased().contains("password authentication failed"), "\(wrong.output)")
        #expect(!wrong.output.contains("Wr0ng-pw-77"), "the password must not be printed")
    }
}
