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

    static func lab() throws -> Lab {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
        let docroot = certificates.directory.appendingPathComponent("docroot")
        try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("ischedule/apple-capabilities.xml"),
            to: docroot.appendingPathComponent("capabilities.xml"))
        let https = try TestHTTPSServer(cert: cert, key: key, keyDirectory: docroot.path)
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
        #expect(output.contains("https://localhost:\(lab.https.port)/.well-known/ischedule: verified"))
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
}
