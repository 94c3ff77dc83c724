import Foundation
import TestSupport
import TestTraits
import Testing

/// `dkim check` and `dkim verify --dns-server` against a real NSD serving the zone under test.
@Suite(.serialized, .waitsOnProcesses) struct DNSCommandTests {
    static let soa = "@ IN SOA ns.example.com. admin.example.com. 1 3600 900 1209600 60\n@ IN NS ns.example.com.\nns IN A 127.0.0.1\n"

    @Test func keygenRecordPastedIntoTheZoneIsFoundByCheck() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        let generated = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "cal", "--out", keys])
        let other = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "old", "--out", keys])
        #expect(generated.status == 0 && other.status == 0)
        let otherRecord = other.output.trimmingCharacters(in: .newlines)
            .replacingOccurrences(of: "old._domainkey", with: "stale._domainkey")
        let emailOnly = otherRecord.replacingOccurrences(of: "stale._domainkey", with: "mail._domainkey")
            .replacingOccurrences(of: "s=ischedule", with: "s=email")
        let zone = Self.soa + generated.output + otherRecord + "\n" + emailOnly + "\n"
        let server = try TestDNSServer(zones: ["example.com": zone])
        defer { server.stop() }
        func check(_ selector: String, key: String) throws -> CLIRunner.Result {
            try CLIRunner.run([
                "dkim", "check", "--domain", "example.com", "--selector", selector,
                "--key", "\(keys)/example.com.\(key).private.pem", "--dns-server", server.server
            ])
        }
        let good = try check("cal", key: "cal")
        #expect(
            good.status == 0 && good.output == "published: cal._domainkey.example.com carries this 2048-bit RSA key and the record is acceptable\n")
        let wrong = try check("stale", key: "cal")
        #expect(wrong.status == 1 && wrong.output.contains("a record for a different key"))
        let email = try check("mail", key: "old")
        #expect(email.status == 1 && email.output.contains("not acceptable: s=email is not ischedule or *"))
        let missing = try check("nothing", key: "cal")
        #expect(missing.status == 1 && missing.output == "not published: nothing._domainkey.example.com: no such name (NXDOMAIN)\n")
    }

    @Test func verifyLooksTheKeyUpInDNS() throws {
        let p = try Fixtures.publicKeyBase64()
        let record = "v=DKIM1; k=rsa; p=\(p)"
        let split = zoneTXT(record)
        let server = try TestDNSServer(zones: ["example.com": Self.soa + "ischedule._domainkey IN TXT \(split)\n"])
        defer { server.stop() }
        let file = "\(Fixtures.directory.path)/derived-ischedule-request-B-rsa-sha1.http"
        let ok = try CLIRunner.run([
            "dkim", "verify", "--request", file, "--dns-server", server.server, "--now", "1700000100",
            "--legacy-dialects"
        ])
        #expect(ok.status == 0 && ok.output == "verified d=example.com s=ischedule a=rsa-sha1\n", "\(ok.output)\(ok.stderr)")
        let dead = try CLIRunner.run([
            "dkim", "verify", "--request", file, "--dns-server", "127.0.0.1:\(freeLoopbackPort())",
            "--now", "1700000100", "--legacy-dialects"
        ])
        #expect(dead.status == 1 && dead.output.hasPrefix("verification failed (temporary): temporary key lookup failure via dns/txt"))
        let bad = try CLIRunner.run(["dkim", "verify", "--request", file, "--dns-server", "resolver.example:53"])
        #expect(bad.status != 0 && bad.stderr.contains("--dns-server 'resolver.example:53' is not an IPv4 HOST[:PORT]"))
    }
}
