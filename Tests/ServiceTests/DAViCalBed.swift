import Foundation
import TestSupport

/// Real peers around a gateway, all on loopback: NSD on a port-53 address (DAViCal resolves
/// through glibc and its namespace's resolv.conf names it; the gateway is configured with it),
/// a test CA everyone trusts, DAViCal for gamma.test, and a gateway for beta.test (upstream: a
/// recording calendar server) and, with Cyrus, alpha.test (upstream: Cyrus's `/ischedule`, which
/// checks no signature). Every domain's SRV `_ischedules._tcp` names its server; mailonly.test
/// has none, so the gateway's iMIP fallback mails its users through the SMTP sink.
final class DAViCalBed: @unchecked Sendable {
    let dns: TestDNSServer
    let davical: TestDAViCal
    let cyrus: TestCyrus?
    let upstream: TestCalendarServer
    /// Where the gateway's iMIP fallback sends (plain SMTP on loopback).
    let sink: TestSMTPServer
    let gateway: GatewayProcess
    var intakePort: UInt16 { gateway.port("http") ?? 0 }
    var receiverPort: UInt16 { gateway.port("https") ?? 0 }

    /// - Parameter configuresDialect: `remote-domains.gamma.test.dialect: draft-01` (else learned).
    /// - Parameter withCyrus: the gateway also fronts alpha.test, hosted by a real Cyrus (user alice).
    init(configuresDialect: Bool = true, withCyrus: Bool = false) throws {
        let certificates = try TestCertificates()
        let directory = GatewayProcess.temporaryDirectory("davical")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("keys/gateway.pem").path
        _ = try runToEnd("/usr/bin/openssl", ["genrsa", "-out", key, "2048"], log: directory.appendingPathComponent("genrsa.log").path)
        // DAViCal accepts s=* or s=calendar in a key record, never s=ischedule.
        let txt = try GatewayBinary.run(["dkim", "txt", "--key", key, "--domain", "beta.test", "--selector", "gw", "--record-only", "--draft-01"])
        guard txt.status == 0 else { throw ChildProcessError("dkim txt: \(txt.output)") }
        let gatewayRecord = txt.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let nameserver = "127.53.\(UInt8.random(in: 1...250)).\(UInt8.random(in: 1...250))"
        upstream = try TestCalendarServer()
        let sinkTLS = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        sink = try TestSMTPServer(mode: .plain, cert: sinkTLS.cert, key: sinkTLS.key)
        cyrus = withCyrus ? try TestCyrus(domain: "alpha.test", users: ["alice"]) : nil
        // DAViCal makes its own key, the gateway's listeners get ports from the kernel: the zones
        // that publish them are written once both exist (nothing resolves before that).
        davical = try TestDAViCal(domain: "gamma.test", users: ["dave", "erin"], nameserver: nameserver, certificates: certificates)
        let tls = try certificates.issue("isched.beta.test", subjectAltNames: ["DNS:isched.beta.test", "DNS:isched.alpha.test"])
        var configuration = GatewayYAML.facingPeers(
            "beta.test", key: "keys/gateway.pem", upstream: upstream.url(), certificate: tls, dns: nameserver, caFile: certificates.caFile)
        if let cyrus {
            configuration["domains", "alpha.test"] = [
                "dkim-keys": [["selector": "gw", "private-key": "keys/gateway.pem"]], "upstream": "\(cyrus.baseURL)/ischedule"
            ]
        }
        configuration.merge([
            "remote-domains": ["gamma.test": configuresDialect ? ["signing-domains": [], "dialect": "draft-01"] : ["signing-domains": []]],
            "imip": ["smtp-url": "smtp://127.0.0.1:\(sink.port)", "from": "calendar-gateway@beta.test", "require-tls": false]
        ])
        gateway = try GatewayProcess(configuration: configuration, directory: directory, listeners: 2)
        let receiverPort = gateway.port("https") ?? 0
        func gatewayZone(_ name: String) -> String {
            zoneHead(name) + """
                _ischedules._tcp IN SRV 0 1 \(receiverPort) isched.\(name).
                isched IN A 127.0.0.1
                gw._domainkey IN TXT \(zoneTXT(gatewayRecord))
                """
        }
        dns = try TestDNSServer(
            zones: [
                "gamma.test": zoneHead("gamma.test") + """
                    _ischedules._tcp IN SRV 0 1 \(davical.httpsPort) isched.gamma.test.
                    isched IN A 127.0.0.1
                    cal._domainkey IN TXT \(zoneTXT(davical.keyRecord))
                    """,
                "beta.test": gatewayZone("beta.test"),
                "alpha.test": gatewayZone("alpha.test"),
                "mailonly.test": zoneHead("mailonly.test")
            ], onPort53: nameserver)
    }

    func stop() {
        _ = gateway.stop()
        davical.stop()
        cyrus?.stop()
        dns.stop()
        upstream.stop()
        sink.stop()
    }
}
