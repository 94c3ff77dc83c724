import Foundation
import TestSupport
import TestTraits
import Testing

/// With DNS servers given, every name (SRV, TXT and the receivers' own A/AAAA) goes through them:
/// run in a namespace whose /etc/resolv.conf points at a dead resolver that records each query.
@Suite(.serialized, .waitsOnProcesses) struct ResolverIsolationTests {
    static let soa = "@ IN SOA ns a 1 3600 900 1209600 60\n@ IN NS ns\nns IN A 127.0.0.1\n"

    @Test func probeCheckAndVerifyNeverAskTheSystemResolver() throws {
        // The machine's resolver, as the namespace sees it: silent, and it writes down every query.
        let namespace = try IsolatedNamespace(resolvConf: "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        defer { namespace.stop() }
        let systemResolver = try namespace.recorder(dns: ["127.0.0.1:53"])
        defer { systemResolver.stop() }

        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("rx.partner.test", subjectAltNames: ["DNS:rx.partner.test"])
        let docroot = certificates.directory.appendingPathComponent("docroot")
        try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("ischedule/apple-capabilities.xml"),
            to: docroot.appendingPathComponent("capabilities.xml"))
        let https = try TestHTTPSServer(cert: cert, key: key, keyDirectory: docroot.path, launcher: namespace.launcher)
        defer { https.stop() }

        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        let generated = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "cal", "--out", keys])
        #expect(generated.status == 0)
        let partner =
            Self.soa + """
                _ischedules._tcp IN SRV 0 0 \(https.port) rx.partner.test.
                rx IN A 127.0.0.1
                cal._domainkey IN TXT \(zoneTXT("v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"))
                """
        let example = Self.soa + generated.output + "ischedule._domainkey IN TXT \(zoneTXT("v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"))\n"
        let dns = try TestDNSServer(zones: ["partner.test": partner, "example.com": example], launcher: namespace.launcher)
        defer { dns.stop() }

        let binary = GatewayBinary.url.path
        let probe = try namespace.run(
            binary,
            [
                "probe", "partner.test", "--dns-server", dns.server, "--ca-file", certificates.caFile,
                "--selector", "cal", "--allow-private-addresses"
            ])
        #expect(probe.status == 0, "\(probe.output)")
        #expect(probe.output.contains("https://rx.partner.test:\(https.port)/.well-known/ischedule:\n    WebPKI: verified"), "\(probe.output)")
        let check = try namespace.run(
            binary,
            [
                "dkim", "check", "--domain", "example.com", "--selector", "cal",
                "--key", "\(keys)/example.com.cal.private.pem", "--dns-server", dns.server
            ])
        #expect(check.status == 0 && check.output.hasPrefix("published: cal._domainkey.example.com"), "\(check.output)")
        let request = "\(Fixtures.directory.path)/derived-ischedule-request-B-rsa-sha1.http"
        let verify = try namespace.run(
            binary,
            [
                "dkim", "verify", "--request", request, "--dns-server", dns.server, "--now", "1700000100",
                "--legacy-dialects"
            ])
        #expect(verify.status == 0 && verify.output.hasSuffix("verified d=example.com s=ischedule a=rsa-sha1\n"), "\(verify.output)")
        #expect(!systemResolver.log.contains("query "), "the system resolver was asked: \(systemResolver.log)")

        // The witness works: a lookup through the system resolver in the namespace reaches it.
        _ = try namespace.run("/usr/bin/getent", ["hosts", "witness.partner.test"], timeout: 10)
        #expect(systemResolver.log.contains("query witness.partner.test"), "\(systemResolver.log)")
    }
}
