import DKIM
import Foundation
import TestSupport

/// A gateway for alpha.test with a fast retry policy, the iMIP fallback to a real SMTP server
/// (aiosmtpd, STARTTLS + AUTH, certificate from a test CA), a real DNS server (NSD) and a
/// recording receiver standing in for remote domains that fail in chosen ways.
final class DeliveryBed: @unchecked Sendable {
    let receiver: TestCalendarServer
    let smtp: TestSMTPServer
    let dns: TestDNSServer
    let gateway: GatewayProcess
    let directory: URL
    /// The CA the gateway trusts (`tls.ca-file`).
    let certificates: TestCertificates
    var port: UInt16 { gateway.ports[0] }

    /// - Parameter routes: remote domain → path on the receiver (`/flaky/3/ischedule`, …).
    /// - Parameter delivery: `delivery:` keys overriding the bed's fast defaults.
    /// - Parameter srvToReceiver: domains whose `_ischedule._tcp` SRV record names the receiver (on loopback).
    /// - Parameter allowPrivateAddresses: `outbound.allow-private-addresses` (the static routes need it).
    /// - Parameter tlsPolicy: `outbound.tls-policy`; the recording receiver speaks plain http, so `may`.
    /// - Parameter dnsServer: the server the gateway asks instead of the bed's NSD (a validating resolver).
    /// - Parameter overrides: configuration merged over the bed's.
    init(
        routes: [String: String], delivery: [String: String] = [:], timeouts: [String: String] = [:],
        srvToReceiver: [String] = [], allowPrivateAddresses: Bool = true, tlsPolicy: String = "may",
        dnsServer: String? = nil, overrides: GatewayYAML.Value = [:], certificates: TestCertificates? = nil
    ) throws {
        receiver = try TestCalendarServer()
        self.certificates = try certificates ?? TestCertificates()
        let tls = try self.certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        smtp = try TestSMTPServer(mode: .starttls, cert: tls.cert, key: tls.key)
        func zone(_ name: String) -> String { zoneHead(name) }
        var zones = ["plain.test": zone("plain.test")]
        for name in srvToReceiver { zones[name] = zone(name) + "_ischedule._tcp IN SRV 0 0 \(receiver.port) localhost.\n" }
        dns = try TestDNSServer(zones: zones)
        directory = GatewayProcess.temporaryDirectory("delivery")
        var configuration = GatewayYAML.local()
        configuration["outbound", "allow-private-addresses"] = .scalar(String(allowPrivateAddresses))
        configuration["outbound", "tls-policy"] = .scalar(tlsPolicy)
        for (domain, path) in routes.sorted(by: { $0.key < $1.key }) { configuration["remote-domains", domain, "uri"] = .scalar(receiver.url(path)) }
        let settings = ["retry-initial": "1s", "retry-maximum": "2s", "max-attempts": "6", "poll-interval": "50ms", "circuit-failures": "100"]
            .merging(delivery) { _, override in override }
        configuration.set(settings, under: "delivery")
        configuration.set(["connect": "2s"].merging(timeouts) { _, override in override }, under: "timeouts")
        configuration.merge([
            "dns": ["servers": [.scalar(dnsServer ?? dns.server)]], "tls": ["ca-file": .scalar(self.certificates.caFile)],
            "imip": [
                "smtp-url": "smtp://localhost:\(smtp.port)", "from": "calendar-gateway@alpha.test", "username": "gateway",
                "password-env": "GATEWAY_TEST_SMTP_PASSWORD", "require-tls": true
            ]
        ])
        configuration.merge(overrides)
        gateway = try GatewayProcess(
            configuration: configuration, directory: directory, listeners: 1, environment: ["GATEWAY_TEST_SMTP_PASSWORD": "secret"])
    }

    /// Submits an invitation from alice@alpha.test, as the local CalDAV server would.
    func invite(_ recipients: [String], summary: String = "Planning meeting") throws -> (response: RawHTTPResponse, body: [UInt8]) {
        let body = Array(
            String(decoding: ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: recipients), as: UTF8.self)
                .replacingOccurrences(of: "SUMMARY:Planning meeting", with: "SUMMARY:\(summary)").utf8)
        let response = try RawHTTPConnection.exchange(
            port: port, path: "/outbound",
            headers: [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", recipients.joined(separator: ",")),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: body, timeout: 30)
        return (response, body)
    }

    /// Messages the SMTP server accepted for `address`.
    func mails(to address: String) -> [[String: Any]] {
        smtp.messages.filter { ($0["to"] as? [String])?.contains(address) == true }
    }

    /// Waits (bounded) until `condition` holds.
    @discardableResult
    func wait(seconds: Double, _ condition: () -> Bool) -> Bool { waitUntil(seconds: seconds, condition) }

    /// Runs `ischedule-gateway queue …` against this gateway's configuration.
    func queue(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try GatewayBinary.run(
            ["queue"] + arguments + ["--config", directory.appendingPathComponent("gateway.yaml").path],
            environment: ["GATEWAY_TEST_SMTP_PASSWORD": "secret"])
    }

    func stop() -> Int32? {
        let status = gateway.stop()
        receiver.stop()
        smtp.stop()
        dns.stop()
        return status
    }
}
