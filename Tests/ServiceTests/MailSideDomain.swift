import DKIM
import Foundation
import TestSupport

/// One of our domains as an administrator runs it beside a CalDAV server that schedules by
/// e-mail (Xandikos, Radicale, Cyrus for remote attendees): a real Postfix with the shipped
/// filter lines (deploy/postfix/master.cf) where the server submits, and a gateway for the
/// domain that signs what the filter queues, receives iSchedule on an https listener (its port
/// chosen before the zones are written) and hands it to the domain's server: `delivery: imip`
/// through Postfix's re-injection port (then Postfix's transport, e.g. LMTP), or an upstream.
/// The gateway and the filter run as nobody, owner of the gateway's directory.
final class MailSideDomain: @unchecked Sendable {
    let name: String
    let key: RSAPrivateKey
    let httpsPort: UInt16
    let postfix: TestPostfix
    let directory: URL
    private(set) var gateway: GatewayProcess?

    /// The address the filter lets speak for the domain's organizers (the server's system sender).
    var systemSender: String { "calendar@\(name)" }

    /// Starts Postfix (mail it does not deliver by transport goes to `relayPort`); the gateway
    /// comes with `start`, once the servers' ports are known.
    init(_ name: String, relayPort: UInt16) throws {
        self.name = name
        key = try RSAPrivateKey.generate(bits: 2048)
        httpsPort = freeLoopbackPort()
        directory = GatewayProcess.temporaryDirectory(name)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try key.pkcs8PEM.write(to: directory.appendingPathComponent("keys/alpha.pem"), atomically: true, encoding: .utf8)
        let services = try MailFilterTests.World.filterServices(
            binary: GatewayBinary.url.path, configuration: directory.appendingPathComponent("gateway.yaml").path)
        postfix = try TestPostfix(services: services, relayPort: relayPort)
    }

    /// The zone of the domain: SRV `_ischedules._tcp` to the gateway's https listener at
    /// `isched.<name>` (127.0.0.1) and the gateway's key at `gw._domainkey` (`s=*` for draft-01
    /// peers such as DAViCal, which refuse `s=ischedule`).
    func zone(forDraft01Peers: Bool = false) -> String {
        zoneHead(name) + """
            _ischedules._tcp IN SRV 0 1 \(httpsPort) isched.\(name).
            isched IN A 127.0.0.1
            gw._domainkey IN TXT \(zoneTXT(KeyRecord.text(for: key.publicKey, forDraft01Peers: forDraft01Peers)))
            """
    }

    /// Starts the gateway.
    /// - Parameters:
    ///   - upstream: the server's iSchedule receiver; nil for `delivery: imip` (mail through Postfix).
    ///   - certificate: presented on the https listener (copied into the gateway's directory).
    ///   - overrides: merged last (`free-busy:`, `remote-domains:`, `infer-requests-from`).
    func start(
        upstream: String?, certificate: (cert: String, key: String), dns: String, caFile: String, overrides: GatewayYAML.Value = [:]
    ) throws {
        for (file, name) in [(certificate.cert, "tls.pem"), (certificate.key, "tls.key"), (caFile, "ca.pem")] {
            try FileManager.default.copyItem(atPath: file, toPath: directory.appendingPathComponent(name).path)
        }
        var configuration = GatewayYAML.local(name, upstream: upstream)
        configuration["listeners"] = [
            ["url": .scalar("https://127.0.0.1:\(httpsPort)"), "certificate": "tls.pem", "private-key": "tls.key"], ["url": "http://127.0.0.1:0"]
        ]
        if upstream == nil { configuration["domains", name, "delivery"] = "imip" }
        configuration.merge([
            "dns": ["servers": [.scalar(dns)]], "tls": ["ca-file": "ca.pem"], "dkim": ["lookup-methods": ["dns/txt"]],
            "delivery": ["poll-interval": "50ms"], "timeouts": ["connect": "2s"],
            "imip": ["smtp-url": "smtp://127.0.0.1:\(postfix.reinjectionPort)", "from": "calendar-gateway@\(name)", "require-tls": false],
            "imip-intake": ["reinject-url": "smtp://127.0.0.1:\(postfix.reinjectionPort)", "trusted-senders": [.scalar(systemSender)]]
        ])
        configuration.merge(overrides)
        gateway = try GatewayProcess(
            configuration: configuration, directory: directory, listeners: 2, launcher: MailFilterTests.World.asNobody(owning: directory))
    }

    /// The gateway's plain-http listener, where the domain's own server submits iSchedule.
    var intakePort: UInt16 { gateway?.port("http") ?? 0 }

    var logs: String { "\(name) gateway:\n\(gateway?.log.suffix(2_500) ?? "")\n\(name) postfix:\n\(postfix.log.suffix(2_500))" }

    func stop() {
        postfix.stop()
        _ = gateway?.stop()
    }
}
