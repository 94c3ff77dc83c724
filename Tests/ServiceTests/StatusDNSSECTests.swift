import Foundation
import TestSupport
import TestTraits
import Testing

/// Our side, published under `dns.dnssec: validate`: `status` shows whether our SRV, TLSA and key
/// records are DNSSEC-secure and whether the TLSA record matches our https listener's certificate;
/// `dkim txt --certificate` prints that record. NSD serves alpha.test signed by ldns-signzone,
/// unbound validates, the gateway runs with an https listener.
@Suite(.serialized, .waitsOnProcesses) struct StatusDNSSECTests {
    @Test func statusAndDKIMTXTPublishOurTLSARecord() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("gw.alpha.test", subjectAltNames: ["DNS:gw.alpha.test", "IP:127.0.0.1"])
        let directory = GatewayProcess.temporaryDirectory("status-dnssec")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keys = directory.appendingPathComponent("keys").path
        let keygen = try GatewayBinary.run(["dkim", "keygen", "--domain", "alpha.test", "--selector", "gw", "--out", keys])
        #expect(keygen.status == 0)
        let httpsPort = freeLoopbackPort()
        let txt = try GatewayBinary.run([
            "dkim", "txt", "--key", keys + "/alpha.test.gw.private.pem", "--domain", "alpha.test", "--selector", "gw",
            "--certificate", tls.cert, "--host", "gw.alpha.test", "--port", String(httpsPort)
        ])
        let tlsaLine = "_\(httpsPort)._tcp.gw.alpha.test. IN TLSA 3 1 1 \(try TestCertificates.tlsaData(tls.cert))"
        #expect(txt.status == 0 && txt.output.contains(tlsaLine), "openssl's digest, \(tlsaLine), in \(txt.output)")
        let records = txt.output.split(separator: "\n").joined(separator: "\n")
        let dns = try TestValidatingDNS(zones: [
            "alpha.test": .init(
                zoneHead("alpha.test") + "gw IN A 127.0.0.1\n_ischedules._tcp IN SRV 0 1 \(httpsPort) gw.alpha.test.\n\(records)\n", .signed)
        ])
        defer { dns.stop() }
        var configuration = GatewayYAML.facingPeers(
            "alpha.test", key: "keys/alpha.test.gw.private.pem", upstream: "http://127.0.0.1:9/", https: "https://127.0.0.1:\(httpsPort)",
            certificate: tls, dns: dns.server, caFile: certificates.caFile)
        configuration["dkim"] = nil
        configuration["dns", "dnssec"] = "validate"
        let gateway = try GatewayProcess(configuration: configuration, directory: directory, listeners: 2)
        defer { _ = gateway.stop() }
        let status = try GatewayBinary.run(["status", "--config", directory.appendingPathComponent("gateway.yaml").path])
        for expected in [
            "alpha.test: ok",
            "receiver: https://gw.alpha.test:\(httpsPort)/.well-known/ischedule (SRV 0 1 \(httpsPort) gw.alpha.test., DNSSEC-secure)",
            "tlsa: listener :\(httpsPort) certificate: \(tlsaLine) (published; 1 published, DNSSEC-secure)",
            "key gw (signs): gw._domainkey.alpha.test published (DNSSEC-secure)"
        ] {
            #expect(status.output.contains(expected), "\(expected) in \(status.output)")
        }
    }
}
