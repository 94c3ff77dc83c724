import Foundation
import TestSupport
import TestTraits
import Testing

/// `deploy/monitoring/`: the Prometheus alert rules pass `promtool check rules` and their own unit
/// tests (`promtool test rules`: each alert fires on the series that should fire it and on no
/// other), and the rules and the Grafana dashboard use only metric names a running gateway
/// exports on `/metrics` (after traffic that makes each of them appear).
@Suite("Monitoring: alert rules and dashboard", .serialized, .waitsOnProcesses)
struct MonitoringTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/monitoring")

    @Test("promtool check rules and promtool test rules pass on deploy/monitoring")
    func alertRules() throws {
        try Prerequisites.require(Prerequisites.promtool, for: "promtool")
        for arguments in [["check", "rules", "ischedule-gateway.rules.yml"], ["test", "rules", "ischedule-gateway.rules.test.yml"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            process.arguments = arguments
            process.currentDirectoryURL = Self.directory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0 && text.contains("SUCCESS"), "promtool \(arguments.joined(separator: " ")):\n\(text)")
        }
    }

    /// The `ischedule_…` metric names an expression file uses.
    static func names(in file: String) throws -> Set<String> {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "ischedule_[a-z_]+")
        return Set(
            regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    @Test("the rules and the dashboard use only names /metrics exports, and the dashboard is valid JSON with a query per panel")
    func namesAreExported() throws {
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("grafana-dashboard.json")))
        let panels = ((dashboard as? [String: Any])?["panels"] as? [[String: Any]]) ?? []
        #expect(panels.count >= 10 && panels.allSatisfy { !(($0["targets"] as? [[String: Any]]) ?? []).isEmpty })
        let used = try Self.names(in: "grafana-dashboard.json").union(Self.names(in: "ischedule-gateway.rules.yml"))
        let text = try Self.metricsAfterTraffic()
        let exported = Set(text.split(separator: "\n").filter { $0.hasPrefix("ischedule_") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
        #expect(used.count >= 10 && used.subtracting(exported).isEmpty, "not exported: \(used.subtracting(exported).sorted())")
        // Series the rules watch with increase() exist at 0 before their first event.
        for series in ["ischedule_config_reloads_total{outcome=\"refused\"} 0", "ischedule_imip_fallbacks_total{reason=\"exhausted\"} 0"] {
            #expect(text.contains(series), "\(series) in:\n\(text)")
        }
    }

    /// A gateway's `/metrics` once it has forwarded a signed invitation, refused a changed one,
    /// mailed an outbound one (no iSchedule at gamma.test) and reloaded.
    static func metricsAfterTraffic() throws -> String {
        let dns = try TestDNSServer(zones: ["gamma.test": zoneHead("gamma.test")])
        defer { dns.stop() }
        let tls = try TestCertificates().issue("localhost", subjectAltNames: ["DNS:localhost"])
        let sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { sink.stop() }
        let bed = try InboundBed(overrides: [
            "dns": ["servers": [.scalar(dns.server)]], "delivery": ["poll-interval": "50ms"],
            "imip": ["smtp-url": "smtp://127.0.0.1:\(sink.port)", "from": "calendar-gateway@beta.test", "require-tls": false]
        ])
        defer { _ = bed.stop() }
        let (headers, body) = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        #expect(try bed.post(headers, body: body).status == 200)
        let (changed, signed) = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        #expect(try bed.post(changed, body: signed + Array("X".utf8)).status == 403)
        let outbound = ITIP.calendar(method: "REQUEST", organizer: "mailto:bob@beta.test", attendees: ["mailto:carol@gamma.test"])
        let sent = try bed.post(
            [
                ("Originator", "mailto:bob@beta.test"), ("Recipient", "mailto:carol@gamma.test"), ("Content-Type", ITIP.contentType("REQUEST")),
                ("X-ISchedule-Gateway-Secret", InboundBed.secret)
            ], body: outbound, path: "/outbound")
        #expect(sent.status == 200, "\(sent.text)")
        #expect(waitUntil(seconds: 20) { !sink.messages.isEmpty }, "\(bed.gateway.log.suffix(2_000))")
        bed.gateway.process.send(SIGHUP)
        var text = ""
        _ = waitUntil(seconds: 20) {
            text =
                (try? RawHTTPConnection.exchange(
                    port: bed.port, method: "GET", path: "/metrics", headers: [("X-ISchedule-Gateway-Secret", InboundBed.secret)])).map(\.text) ?? ""
            return text.contains("ischedule_config_reloads_total") && text.contains("ischedule_queue_attempts_total")
        }
        return text
    }
}
