import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// SIGHUP against the running binary: a good file takes effect without dropping what is in flight;
/// a bad one is refused with every reason while the old configuration keeps serving; renewed TLS
/// certificates are presented to new connections.
@Suite(.serialized, .waitsOnProcesses) struct ConfigReloadTests {
    /// A gateway for alpha.test (upstream: a recording calendar server) that resolves through its
    /// own NSD; `late.test` exists in DNS without iSchedule until a reload routes it to `receiver`.
    final class Bed: @unchecked Sendable {
        let upstream: TestCalendarServer
        let receiver: TestCalendarServer
        let dns: TestDNSServer
        let gateway: GatewayProcess
        let file: URL

        init(listener: GatewayYAML.Value = Bed.listener) throws {
            upstream = try TestCalendarServer()
            receiver = try TestCalendarServer()
            func zone(_ name: String) -> String { zoneHead(name) }
            dns = try TestDNSServer(zones: ["late.test": zone("late.test")])
            let directory = GatewayProcess.temporaryDirectory("reload")
            file = directory.appendingPathComponent("gateway.yaml")
            gateway = try GatewayProcess(
                configuration: Self.configuration(listener: listener, upstream: upstream.url(), dns: dns.server),
                directory: directory, listeners: 1)
        }

        /// The bed's configuration, with `remotes` as its `remote-domains:` entries.
        func configuration(listener: GatewayYAML.Value = Bed.listener, remotes: GatewayYAML.Value = Bed.remotes, upstream: String? = nil)
            -> GatewayYAML
        {
            Self.configuration(listener: listener, remotes: remotes, upstream: upstream ?? self.upstream.url(), dns: dns.server)
        }

        static let listener: GatewayYAML.Value = ["url": "http://127.0.0.1:0"]
        static let remotes: GatewayYAML.Value = ["none.test": [:]]

        static func configuration(listener: GatewayYAML.Value, remotes: GatewayYAML.Value = remotes, upstream: String, dns: String) -> GatewayYAML {
            var configuration = GatewayYAML.local(upstream: upstream)
            // The recording receiver speaks plain http.
            configuration.merge([
                "listeners": [listener], "remote-domains": remotes, "dns": ["servers": [.scalar(dns)]], "outbound": ["tls-policy": "may"]
            ])
            return configuration
        }

        /// Writes `configuration` as the configuration file, sends SIGHUP and waits (bounded) for the
        /// gateway's answer in its log: `reloaded` or `reload refused`.
        func reload(_ configuration: GatewayYAML) throws -> String {
            let before = gateway.log.count
            try configuration.write(to: file)
            gateway.process.send(SIGHUP)
            for _ in 0..<200 {
                let fresh = String(gateway.log.dropFirst(before))
                if fresh.contains("reloaded ") || fresh.contains("reload refused") { return settled(after: before) }
                usleep(50_000)
            }
            return String(gateway.log.dropFirst(before))
        }

        /// The log since `before` once it stops growing (a refusal's problems follow its first
        /// line, and the log file may be read between the two writes); at most one second.
        private func settled(after before: Int) -> String {
            var last = String(gateway.log.dropFirst(before))
            for _ in 0..<10 {
                usleep(100_000)
                let now = String(gateway.log.dropFirst(before))
                if now == last { return now }
                last = now
            }
            return last
        }

        func invite(_ recipient: String) throws -> RawHTTPResponse {
            try RawHTTPConnection.exchange(
                port: gateway.ports[0], path: "/outbound",
                headers: [("Originator", "mailto:alice@alpha.test"), ("Recipient", recipient), ("Content-Type", ITIP.contentType("REQUEST"))],
                body: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: [recipient]), timeout: 30)
        }

        func status(_ response: RawHTTPResponse) -> String? { scheduleResponse(response)?.items.first?.requestStatus.code }

        func stop() -> Int32? {
            let status = gateway.stop()
            upstream.stop()
            receiver.stop()
            dns.stop()
            return status
        }
    }

    /// Runs `body` on its own thread (a blocking exchange must not hold a cooperative thread).
    final class Background<Value: Sendable>: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<Value, any Error>?

        init(_ body: @escaping @Sendable () throws -> Value) {
            Thread.detachNewThread { [self] in
                result = Result(catching: body)
                done.signal()
            }
        }

        func value(timeout: Double) throws -> Value? {
            guard done.wait(timeout: .now() + timeout) == .success, let result else { return nil }
            return try result.get()
        }
    }

    @Test func goodConfigurationTakesEffectAndRequestsInFlightAreAnswered() throws {
        let bed = try Bed()
        defer { #expect(bed.stop() == 0) }
        let before = try bed.invite("mailto:bob@late.test")
        #expect(bed.status(before) == "5.3", "late.test has no iSchedule yet: \(before.text)")
        #expect(bed.receiver.records.isEmpty)

        // slow@ makes the upstream answer after 3 s: the request is in flight across the reload.
        let inFlight = Background { try bed.invite("mailto:slow@alpha.test") }
        for _ in 0..<100 where bed.upstream.records.isEmpty { usleep(20_000) }
        let log = try bed.reload(bed.configuration(remotes: ["late.test": ["uri": .scalar(bed.receiver.url())]]))
        #expect(log.contains("reloaded \(bed.file.path)"), "\(log)")
        #expect(!log.contains("takes effect at the next restart"), "\(log)")

        let after = try bed.invite("mailto:bob@late.test")
        #expect(bed.status(after) == "1.2", "\(after.text)")
        #expect(bed.receiver.records.count == 1)
        #expect(bed.receiver.records.first?.values("Recipient") == ["mailto:bob@late.test"])

        let answered = try inFlight.value(timeout: 20)
        #expect(answered?.status == 200)
        #expect(answered.map { bed.status($0) } == "1.2", "\(answered?.text ?? "no answer")")
        let metrics = try RawHTTPConnection.exchange(port: bed.gateway.ports[0], method: "GET", path: "/metrics")
        #expect(metrics.text.contains("ischedule_config_reloads_total{outcome=\"applied\"} 1"), "\(metrics.text)")
    }

    @Test func badConfigurationIsRefusedWithEveryReasonAndTheOldOneKeepsServing() throws {
        let bed = try Bed()
        defer { #expect(bed.stop() == 0) }
        _ = try bed.reload(bed.configuration(remotes: ["late.test": ["uri": .scalar(bed.receiver.url())]]))
        let working = try bed.invite("mailto:bob@late.test")
        #expect(bed.status(working) == "1.2", "\(working.text)")

        // Two problems at once: an unknown key and an upstream that is not a URL.
        let broken = bed.configuration(remotes: ["late.test": ["uri": .scalar(bed.receiver.url()), "colour": "blue"]], upstream: "not a url")
        let log = try bed.reload(broken)
        #expect(log.contains("reload refused, the running configuration stays in effect: 2 problem(s)"), "\(log)")
        #expect(log.contains("reload: remote-domains.late.test.colour"), "\(log)")
        #expect(log.contains("reload: domains.alpha.test.upstream"), "\(log)")
        #expect(bed.gateway.process.isRunning)

        // A key that cannot be read is refused too: the file is not enough, the keys must load.
        var missingKey = bed.configuration(remotes: ["late.test": ["uri": .scalar(bed.receiver.url())]])
        missingKey["domains", "alpha.test", "dkim-keys"] = [["selector": "gw", "private-key": "keys/missing.pem", "create-if-missing": false]]
        let keyLog = try bed.reload(missingKey)
        #expect(keyLog.contains("reload refused"), "\(keyLog)")
        #expect(keyLog.contains("domains.alpha.test.dkim-keys[0].private-key"), "\(keyLog)")

        let still = try bed.invite("mailto:carol@late.test")
        #expect(bed.status(still) == "1.2", "the old configuration still routes late.test: \(still.text)")
        #expect(bed.receiver.records.count == 2)
        let metrics = try RawHTTPConnection.exchange(port: bed.gateway.ports[0], method: "GET", path: "/metrics")
        #expect(metrics.text.contains("ischedule_config_reloads_total{outcome=\"refused\"} 2"), "\(metrics.text)")
    }

    @Test func settingsThatNeedARestartAreNamed() throws {
        let bed = try Bed()
        defer { #expect(bed.stop() == 0) }
        var moved = bed.configuration(listener: ["url": "http://127.0.0.1:1"])
        moved["limits", "max-content-length"] = 4096
        let log = try bed.reload(moved)
        #expect(log.contains("reload: listeners changed; it takes effect at the next restart"), "\(log)")
        #expect(log.contains("reload: limits.max-content-length changed; it takes effect at the next restart"), "\(log)")
        #expect(log.contains("reloaded "), "\(log)")
        let answer = try bed.invite("mailto:dave@alpha.test")
        #expect(bed.status(answer) == "1.2", "still listening where it started: \(answer.text)")
    }

    @Test("a client CA file changed on disk or in the configuration is named as needing a restart, never silently kept")
    func changedClientCAIsNamed() throws {
        let certificates = try TestCertificates()
        let other = try TestCertificates()
        let server = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let ca = certificates.directory.appendingPathComponent("clients.pem").path
        try FileManager.default.copyItem(atPath: certificates.caFile, toPath: ca)
        let listener = { (file: String) -> GatewayYAML.Value in
            [
                "url": "https://127.0.0.1:0", "certificate": .scalar(server.cert), "private-key": .scalar(server.key),
                "client-ca-file": .scalar(file), "intake": true
            ]
        }
        let bed = try Bed(listener: listener(ca))
        defer { #expect(bed.stop() == 0) }
        let unchanged = try bed.reload(bed.configuration(listener: listener(ca)))
        #expect(unchanged.contains("reloaded ") && !unchanged.contains("client-ca-file"), "\(unchanged)")
        let moved = try bed.reload(bed.configuration(listener: listener(other.caFile)))
        #expect(moved.contains("reload: listeners[0].client-ca-file changed; it takes effect at the next restart"), "\(moved)")
        try FileManager.default.removeItem(atPath: ca)
        try FileManager.default.copyItem(atPath: other.caFile, toPath: ca)
        let rewritten = try bed.reload(bed.configuration(listener: listener(ca)))
        #expect(rewritten.contains("reload: listeners[0].client-ca-file changed; it takes effect at the next restart"), "\(rewritten)")
    }

    @Test func renewedCertificateIsPresentedToNewConnections() throws {
        let certificates = try TestCertificates()
        let first = try certificates.issue("first.localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let second = try certificates.issue("second.localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let directory = certificates.directory
        let live = (cert: directory.appendingPathComponent("live.pem").path, key: directory.appendingPathComponent("live.key").path)
        try FileManager.default.copyItem(atPath: first.cert, toPath: live.cert)
        try FileManager.default.copyItem(atPath: first.key, toPath: live.key)
        let listener: GatewayYAML.Value = [
            "url": "https://127.0.0.1:0", "certificate": .scalar(live.cert), "private-key": .scalar(live.key), "intake": true
        ]
        let bed = try Bed(listener: listener)
        defer { #expect(bed.stop() == 0) }
        let port = bed.gateway.ports[0]
        #expect(try servedSubject(port: port, caFile: certificates.caFile).contains("first.localhost"))

        // A key that does not fit the certificate is refused; the old pair stays.
        try FileManager.default.removeItem(atPath: live.cert)
        try FileManager.default.copyItem(atPath: second.cert, toPath: live.cert)
        let mismatch = try bed.reload(bed.configuration(listener: listener))
        #expect(mismatch.contains("reload refused"), "\(mismatch)")
        #expect(mismatch.contains("listeners[0].private-key"), "\(mismatch)")
        #expect(try servedSubject(port: port, caFile: certificates.caFile).contains("first.localhost"))

        try FileManager.default.removeItem(atPath: live.key)
        try FileManager.default.copyItem(atPath: second.key, toPath: live.key)
        let renewed = try bed.reload(bed.configuration(listener: listener))
        #expect(renewed.contains("reloaded "), "\(renewed)")
        #expect(try servedSubject(port: port, caFile: certificates.caFile).contains("second.localhost"))
    }

    /// The subject of the certificate a new TLS connection is shown, verified against `caFile`.
    private func servedSubject(port: UInt16, caFile: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-CAfile", caFile,
            "-verify_return_error", "-brief"
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix("Peer certificate:") }.map(String.init) ?? text
    }
}
