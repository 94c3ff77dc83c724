import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// `/healthz` tells the truth about the state database, and a damaged one stops the start.
@Suite("Store health", .serialized, .waitsOnProcesses)
struct StoreHealthTests {
    static func configuration(dataDirectory: String) -> GatewayYAML {
        var configuration = GatewayYAML.local(key: "alpha.pem")
        configuration["data-directory"] = .scalar(dataDirectory)
        configuration["outbound"] = nil
        return configuration
    }

    static func health(_ gateway: GatewayProcess) throws -> RawHTTPResponse {
        try RawHTTPConnection.exchange(port: gateway.ports[0], method: "GET", path: "/healthz")
    }

    @Test("a full data disk makes /healthz say not ready, and ready again once there is room")
    func fullDisk() throws {
        let work = GatewayProcess.temporaryDirectory("health")
        let data = work.appendingPathComponent("data").path
        let namespace = try IsolatedNamespace(privateNetwork: false, tmpfs: [data: "8m"])
        defer {
            namespace.stop()
            try? FileManager.default.removeItem(at: work)
        }
        let gateway = try GatewayProcess(
            configuration: Self.configuration(dataDirectory: data), directory: work, listeners: 1,
            launcher: namespace.launcher)
        defer { gateway.stop() }
        let ready = try Self.health(gateway)
        #expect(ready.status == 200 && ready.text == "ready\n", "\(ready.text)")
        _ = try namespace.run("/bin/sh", ["-c", "dd if=/dev/zero of='\(data)/fill' bs=1M count=64 2>/dev/null; true"])
        usleep(2_100_000)  // health probes are at most one every 2 s
        let full = try Self.health(gateway)
        #expect(full.status == 503 && full.text.contains("KiB free"), "\(full.text)")
        _ = try namespace.run("/bin/rm", ["-f", "\(data)/fill"])
        usleep(2_100_000)
        #expect(try Self.health(gateway).status == 200)
    }

    @Test("a commit that fails makes /healthz say not ready at once, not at the next probe")
    func failedCommitIsNotReadyAtOnce() throws {
        let work = GatewayProcess.temporaryDirectory("health-commit")
        let data = work.appendingPathComponent("data").path
        let namespace = try IsolatedNamespace(privateNetwork: false, tmpfs: [data: "8m"])
        defer {
            namespace.stop()
            try? FileManager.default.removeItem(at: work)
        }
        // dead.test's receiver refuses connections: a message to it is queued (a commit) and answered 1.0.
        let gateway = try GatewayProcess(
            configuration: Self.configuration(dataDirectory: data).merged([
                "outbound": ["allow-private-addresses": true],
                "remote-domains": ["dead.test": ["uri": "http://127.0.0.1:9/ischedule", "tls-policy": "may"]]
            ]), directory: work, launcher: namespace.launcher)
        defer { gateway.stop() }
        #expect(try Self.health(gateway).status == 200)
        _ = try namespace.run("/bin/sh", ["-c", "dd if=/dev/zero of='\(data)/fill' bs=1M count=64 2>/dev/null; true"])
        let recipient = "mailto:x@dead.test"
        let answer = try RawHTTPConnection.exchange(
            port: gateway.ports[0], path: "/outbound",
            headers: [("Originator", "mailto:alice@alpha.test"), ("Recipient", recipient), ("Content-Type", ITIP.contentType("REQUEST"))],
            body: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: [recipient]), timeout: 30)
        #expect(scheduleResponse(answer)?.items.first?.requestStatus.code == "5.1", "\(answer.text)")
        // Not the probe's "KiB free" (it runs at most every 2 s): the failed commit itself.
        let right = try Self.health(gateway)
        #expect(right.status == 503 && right.text.contains("cannot commit"), "\(right.text)")
        _ = try namespace.run("/bin/rm", ["-f", "\(data)/fill"])
        usleep(2_100_000)
        #expect(try Self.health(gateway).status == 200)
    }

    @Test("a corrupt state database stops the start with one line naming the file")
    func corruptStore() throws {
        let work = GatewayProcess.temporaryDirectory("corrupt")
        defer { try? FileManager.default.removeItem(at: work) }
        let first = try GatewayProcess(configuration: Self.configuration(dataDirectory: "data"), directory: work, listeners: 1)
        #expect(first.stop() == 0)
        let file = work.appendingPathComponent("data/queue.sqlite")
        var bytes = try Data(contentsOf: file)
        #expect(bytes.count >= 12_288)
        for offset in 8_192..<max(8_192, min(bytes.count, 12_288)) { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 31) }
        try bytes.write(to: file)
        let log = work.appendingPathComponent("second.log").path
        let second = try ChildProcess(
            "/usr/bin/env",
            [
                "-C", work.path, GatewayBinary.url.path, "serve", "--config",
                work.appendingPathComponent("gateway.yaml").path
            ], logPath: log)
        let status = second.waitForExit(timeout: 30)
        if status == nil { second.stop(grace: 0) }
        let errors = second.log.split(separator: "\n").filter { $0.contains("data-directory") }
        #expect(status != nil && status != 0, "\(second.log)")
        #expect(errors.count == 1 && errors[0].contains(file.path), "\(second.log)")
        #expect(second.log.contains("corrupt") || second.log.contains("malformed"), "\(second.log)")
        #expect(!second.log.contains("listening on"))
    }
}
