import Foundation
import TestSupport
import TestTraits
import Testing

/// `probe` against a real DNS server and a real TLS receiver.
@Suite(.serialized, .waitsOnProcesses) struct ProbeCommandTests {
    struct Lab {
        let dns: TestDNSServer
        let https: TestHTTPSServer
        let caFile: String
        func stop() {
            dns.stop()
            https.stop()
        }
    }

    /// A TLS server answering `?action=capabilities` with Apple's capabilities document.
    static func capabilitiesServer(_ certificates: TestCertificates, cert: String, key: String) throws -> TestHTTPSServer {
        let docroot = certificates.directory.appendingPathComponent("docroot-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("ischedule/apple-capabilities.xml"),
            to: docroot.appendingPathComponent("capabilities.xml"))
        return try TestHTTPSServer(cert: cert, key: key, keyDirectory: docroot.path)
    }

    static func lab() throws -> Lab {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
        let https = try capabilitiesServer(certificates, cert: cert, key: key)
        let record = "v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"
        let split = zoneTXT(record)
        let zone = """
            @ IN SOA ns a 1 3600 900 1209600 60
            @ IN NS ns
            ns IN A 127.0.0.1
            _ischedules._tcp IN SRV 0 0 \(freeLoopbackPort()) localhost.
            _ischedules._tcp IN SRV 10 0 \(https.port) localhost.
            cal._domainkey IN TXT \(split)
            """
        let dns = try TestDNSServer(zones: [
            "partner.test": zone, "mailonly.test": "@ IN SOA ns a 1 3600 900 1209600 60\n@ IN NS ns\nns IN A 127.0.0.1",
            "legacy.test": "@ IN SOA ns a 1 3600 900 1209600 60\n@ IN NS ns\n_ischedule._tcp IN SRV 0 0 \(freeLoopbackPort()) localhost."
        ])
        return Lab(dns: dns, https: https, caFile: certificates.caFile)
    }

    @Test func aWorkingDomainShowsEverySection() throws {
        let lab = try Self.lab()
        defer { lab.stop() }
        let result = try CLIRunner.run([
            "probe", "partner.test", "--dns-server", lab.dns.server, "--ca-file", lab.caFile,
            "--selector", "cal", "--allow-private-addresses"
        ])
        let output = result.output
        #expect(result.status == 0, "\(output)\(result.stderr)")
        #expect(
            output.contains("  try 1: https://localhost:") && output.contains("  try 2: https://localhost:\(lab.https.port)/.well-known/ischedule"))
        #expect(output.contains(": could not connect"))
        #expect(output.contains("  https://localhost:\(lab.https.port)/.well-known/ischedule:\n    WebPKI: verified"), "\(output)")
        #expect(output.contains("    tls-policy verify: authenticates by WebPKI (no DNSSEC-validated TLSA)"))
        #expect(output.contains("    subject: CN = localhost") && output.contains("    issuer: CN = ischedule-gateway test CA"))
        #expect(output.contains("  VEVENT: REQUEST, CANCEL, REPLY") && output.contains("max-recipients: 100"))
        #expect(output.contains("    acceptable: 2048-bit RSA"))
        #expect(output.hasSuffix("result: iSchedule to partner.test should work\n"))
        print(output)
    }

    @Test func failuresSayWhy() throws {
        let lab = try Self.lab()
        defer { lab.stop() }
        let guarded = try CLIRunner.run(["probe", "partner.test", "--dns-server", lab.dns.server, "--ca-file", lab.caFile])
        #expect(
            guarded.status == 1
                && guarded.output.contains("refused to connect: localhost resolves only to refused addresses (127.0.0.1 is a loopback address"),
            "\(guarded.output)")
        #expect(guarded.output.contains("will not work: no receiver returned capabilities"))
        let none = try CLIRunner.run(["probe", "mailonly.test", "--dns-server", lab.dns.server])
        #expect(none.status == 1)
        #expect(
            none.output.contains(
                "result: iSchedule to mailonly.test will not work: no iSchedule receiver: no _ischedules._tcp or _ischedule._tcp SRV records for mailonly.test"
            ))
        let noKey = try CLIRunner.run([
            "probe", "partner.test", "--dns-server", lab.dns.server, "--ca-file", lab.caFile,
            "--selector", "absent", "--allow-private-addresses"
        ])
        #expect(noKey.status == 1 && noKey.output.contains("no DKIM key record at absent._domainkey.partner.test"))
    }

    @Test("a domain with only plain _ischedule._tcp: refused under the default tls-policy verify, tried under --tls-policy may")
    func plaintextOnlyDomainFollowsTheTLSPolicy() throws {
        let lab = try Self.lab()
        defer { lab.stop() }
        let verify = try CLIRunner.run(["probe", "legacy.test", "--dns-server", lab.dns.server])
        #expect(verify.status == 1)
        #expect(verify.output.contains("discovery (tls-policy verify):"), "\(verify.output)")
        #expect(
            verify.output.contains(
                "will not work: no iSchedule receiver: plaintext iSchedule refused by tls-policy verify (legacy.test publishes only _ischedule._tcp, plain http)"
            ), "\(verify.output)")
        let may = try CLIRunner.run(["probe", "legacy.test", "--dns-server", lab.dns.server, "--tls-policy", "may", "--allow-private-addresses"])
        #expect(may.output.contains("discovery (tls-policy may):") && may.output.contains("  try 1: http://localhost:"), "\(may.output)")
        let unknown = try CLIRunner.run(["probe", "legacy.test", "--tls-policy", "none"])
        #expect(unknown.status != 0 && unknown.stderr.contains("--tls-policy 'none' is not one of verify, may"), "\(unknown.stderr)")
    }

    /// NSD serving zones signed by ldns-signzone (and one unsigned), unbound validating, a
    /// receiver with a self-signed certificate: what `probe --dnssec` shows per record.
    @Test("probe --dnssec prints secure/insecure per record, the TLSA verdict and what the tls-policy does")
    func dnssecAndTLSAVerdicts() throws {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.selfSigned("rx.good.test", subjectAltNames: ["DNS:rx.good.test"])
        let (other, _) = try certificates.selfSigned("other.test", subjectAltNames: ["DNS:other.test"])
        let https = try Self.capabilitiesServer(certificates, cert: cert, key: key)
        defer { https.stop() }
        func zone(_ name: String, tlsa: String) throws -> String {
            zoneHead(name) + """
                _ischedules._tcp IN SRV 0 0 \(https.port) rx.\(name).
                rx IN A 127.0.0.1
                _\(https.port)._tcp.rx IN TLSA 3 1 1 \(tlsa)
                cal._domainkey IN TXT \(zoneTXT("v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"))
                """
        }
        let right = try TestCertificates.tlsaData(cert)
        let dns = try TestValidatingDNS(zones: [
            "good.test": .init(try zone("good.test", tlsa: right), .signed),
            "wrong.test": .init(try zone("wrong.test", tlsa: try TestCertificates.tlsaData(other)), .signed),
            "insecure.test": .init(try zone("insecure.test", tlsa: right), .unsigned)
        ])
        defer { dns.stop() }
        func probe(_ domain: String, _ policy: String) throws -> (status: Int32, output: String) {
            let result = try CLIRunner.run([
                "probe", domain, "--dns-server", dns.server, "--dnssec", "--tls-policy", policy, "--selector", "cal", "--allow-private-addresses"
            ])
            return (result.status, result.output + result.stderr)
        }
        let good = try probe("good.test", "dane")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("(SRV 0 0 \(https.port) rx.good.test., DNSSEC-secure)"), "\(good.output)")
        #expect(good.output.contains("    TLSA _\(https.port)._tcp.rx.good.test: 1 usable record(s), DNSSEC-secure"), "\(good.output)")
        #expect(good.output.contains("    TLSA: the certificate matches"))
        #expect(good.output.contains("    tls-policy dane: authenticates by DANE"))
        #expect(good.output.contains("key cal._domainkey.good.test:\n  DNSSEC-secure"), "\(good.output)")

        let wrong = try probe("wrong.test", "dane")
        #expect(wrong.status == 1, "\(wrong.output)")
        #expect(wrong.output.contains("    TLSA: does not match: rx.wrong.test:\(https.port) matches none of its 1 TLSA record"), "\(wrong.output)")
        #expect(wrong.output.contains("    tls-policy dane: refuses it (its certificate matches none of its validated TLSA records"))

        let insecure = try probe("insecure.test", "dane")
        #expect(
            insecure.output.contains("DNSSEC-insecure)") && insecure.output.contains("key cal._domainkey.insecure.test:\n  DNSSEC-insecure"),
            "\(insecure.output)")
        #expect(insecure.output.contains("    tls-policy dane: authenticates by WebPKI (no DNSSEC-validated TLSA)"), "\(insecure.output)")
        #expect(insecure.status == 1, "a self-signed certificate does not pass WebPKI: \(insecure.output)")
        let daneOnly = try probe("insecure.test", "dane-only")
        #expect(
            daneOnly.status == 1
                && daneOnly.output.contains(
                    "no iSchedule receiver: no DNSSEC-validated TLSA, which tls-policy dane-only requires (the SRV answer for insecure.test is not DNSSEC-validated)"
                ),
            "\(daneOnly.output)")
        // Under verify, --dnssec still shows what a dane policy would find.
        let verify = try probe("good.test", "verify")
        #expect(verify.output.contains("    TLSA _\(https.port)._tcp.rx.good.test: 1 record(s), DNSSEC-secure"), "\(verify.output)")
        #expect(verify.output.contains("    tls-policy verify: authenticates by WebPKI"))
        let unvalidated = try CLIRunner.run(["probe", "good.test", "--dns-server", dns.server, "--tls-policy", "dane"])
        #expect(unvalidated.status != 0 && unvalidated.stderr.contains("--tls-policy dane needs --dnssec"), "\(unvalidated.stderr)")
    }

    /// `--dnssec` believes only a validator on this host: one elsewhere (here an address inside a
    /// private network namespace, where nothing answers) is named, and nothing is reported secure.
    @Test("probe --dnssec with a resolver that is not on this host says its AD bit is not believed")
    func dnssecBelievesOnlyALocalValidator() throws {
        let namespace = try IsolatedNamespace(addresses: ["10.0.0.53/32"])
        defer { namespace.stop() }
        let run = try namespace.run(
            GatewayBinary.url.path, ["probe", "partner.test", "--dns-server", "10.0.0.53:53", "--dnssec"], timeout: 60)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("--dnssec: 10.0.0.53 not on this host: its AD bit is not believed, nothing is reported secure"), "\(run.output)")
    }
}
