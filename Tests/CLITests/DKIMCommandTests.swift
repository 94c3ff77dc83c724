import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// The `dkim` subcommands, run as an administrator would run them.
@Suite(.waitsOnProcesses) struct DKIMCommandTests {
    let vectors = Fixtures.directory.path

    @Test func keygenWritesProtectedKeysAndPrintsASplitRecord() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("keys").path
        let result = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "cal", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let privatePath = "\(out)/example.com.cal.private.pem"
        let attributes = try FileManager.default.attributesOfItem(atPath: privatePath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = try RSAPrivateKey(pem: String(contentsOfFile: privatePath, encoding: .utf8))
        #expect(key.bits == 2048)
        #expect(try String(contentsOfFile: privatePath, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let line = result.output.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("cal._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; s=ischedule; p="))
        let strings = Self.quotedStrings(line)
        #expect(strings.count == 2 && strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.joined() == KeyRecord.text(for: key.publicKey))

        let again = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "cal", "--out", out])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))

        let txt = try CLIRunner.run(["dkim", "txt", "--key", privatePath, "--domain", "example.com", "--selector", "cal"])
        #expect(txt.status == 0 && txt.output == result.output)
    }

    static func quotedStrings(_ line: String) -> [String] {
        line.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    @Test("keygen --owner USER:GROUP: the key readable by the service's group (0640), as the unit needs, whatever the umask")
    func keygenForTheServiceGroup() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // As root, give the files away (as to root:ischedule-gateway); otherwise to ourselves (chown allows no more).
        let user = getuid() == 0 ? "nobody" : String(cString: getpwuid(getuid())!.pointee.pw_name)
        let group = getuid() == 0 ? "nogroup" : String(cString: getgrgid(getgid())!.pointee.gr_name)
        let out = directory.appendingPathComponent("keys").path
        let result = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "cal", "--out", out, "--owner", "\(user):\(group)"]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("mode 640, owner \(user):\(group)"), "\(result.stderr)")
        var status = stat()
        #expect(stat("\(out)/example.com.cal.private.pem", &status) == 0)
        #expect(
            status.st_mode & 0o777 == 0o640 && status.st_uid == getpwnam(user)!.pointee.pw_uid && status.st_gid == getgrnam(group)!.pointee.gr_gid)
        #expect(stat(out, &status) == 0 && status.st_mode & 0o777 == 0o750 && status.st_gid == getgrnam(group)!.pointee.gr_gid)
        let unknown = try CLIRunner.run([
            "dkim", "keygen", "--domain", "example.com", "--selector", "x", "--out", out, "--owner", "root:no-such-group-x"
        ])
        #expect(unknown.status == 1 && unknown.stderr.contains("--owner root:no-such-group-x: no group no-such-group-x"))
    }

    @Test func keygenRefusesSmallKeysAndBadNames() throws {
        let small = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "s", "--bits", "1024", "--out", "/tmp/x"])
        #expect(small.status != 0 && small.stderr.contains("at least 2048 bits"))
        let bad = try CLIRunner.run(["dkim", "keygen", "--domain", "../etc", "--selector", "s", "--out", "/tmp/x"])
        #expect(bad.status != 0 && bad.stderr.contains("--domain '../etc' is not a domain name"))
    }

    @Test func signReproducesTheVectorSignature() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = try Fixtures.text("derived-ischedule-request-A-rsa-sha256.http")
        let unsigned = raw.components(separatedBy: "\r\n").filter { !$0.hasPrefix("DKIM-Signature:") }.joined(separator: "\r\n")
        let input = directory.appendingPathComponent("unsigned.http")
        try unsigned.write(to: input, atomically: true, encoding: .utf8)
        let result = try CLIRunner.run([
            "dkim", "sign", "--request", input.path, "--key", "\(vectors)/apple-test_dkim-rsa2048-private.pem",
            "--domain", "example.com", "--selector", "ischedule", "--now", "1700000000",
            "--query-methods", "private-exchange:http/well-known:dns/txt"
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let vector = (try Fixtures.json("derived-ischedule-signing-vectors.json")["vectors"] as! [[String: Any]])[0]
        #expect(result.output.contains("DKIM-Signature: \(vector["dkim_signature_value"] as! String)\r\n"))
        let signed = directory.appendingPathComponent("signed.http")
        try Data(result.stdout).write(to: signed)
        let verify = try CLIRunner.run([
            "dkim", "verify", "--request", signed.path, "--public-key",
            "\(vectors)/apple-test_dkim-rsa2048-public.pem", "--now", "1700000100"
        ])
        #expect(verify.status == 0 && verify.output == "verified d=example.com s=ischedule a=rsa-sha256\n")

        // Signed for private exchange only, verified with no private-exchange directory: the message says what is missing.
        let exchangeOnly = try CLIRunner.run([
            "dkim", "sign", "--request", input.path, "--key", "\(vectors)/apple-test_dkim-rsa2048-private.pem",
            "--domain", "example.com", "--selector", "ischedule", "--now", "1700000000",
            "--query-methods", "private-exchange"
        ])
        try Data(exchangeOnly.stdout).write(to: signed)
        let unconfigured = try CLIRunner.run(["dkim", "verify", "--request", signed.path, "--now", "1700000100", "--dns-server", "127.0.0.1:9"])
        #expect(
            unconfigured.status == 1
                && unconfigured.output.contains(
                    "no public key for s=ischedule d=example.com: no key source is configured for the query methods its q= names"),
            "\(unconfigured.output)")
    }

    @Test(arguments: [("A", "rsa-sha256"), ("B", "rsa-sha1")])
    func verifyAcceptsVectorsAndExplainsRejections(label: String, algorithm: String) throws {
        let file = "\(vectors)/derived-ischedule-request-\(label)-\(algorithm).http"
        // rsa-sha1 verifies only for legacy peers (RFC 8301).
        let key = ["--public-key", "\(vectors)/apple-test_dkim-rsa2048-public.pem"] + (label == "B" ? ["--legacy-dialects"] : [])
        if label == "B" {
            let refused = try CLIRunner.run([
                "dkim", "verify", "--request", file, "--now", "1700000100", "--public-key",
                "\(vectors)/apple-test_dkim-rsa2048-public.pem"
            ])
            #expect(refused.status == 1 && refused.output == "verification failed: a=rsa-sha1 is not accepted by policy\n", "\(refused.output)")
        }
        let ok = try CLIRunner.run(["dkim", "verify", "--request", file, "--now", "1700000100"] + key)
        #expect(ok.status == 0 && ok.output == "verified d=example.com s=ischedule a=\(algorithm)\n")
        let expired = try CLIRunner.run(["dkim", "verify", "--request", file, "--now", "1700003601"] + key)
        #expect(expired.status == 1 && expired.output == "verification failed: signature expired: x=1700003600 is before now=1700003601\n")
        let future = try CLIRunner.run(["dkim", "verify", "--request", file, "--now", "1699999000"] + key)
        #expect(future.status == 1 && future.output.contains("1000 s in the future"))
        let skewed = try CLIRunner.run(["dkim", "verify", "--request", file, "--now", "1699999000", "--skew", "1000"] + key)
        #expect(skewed.status == 0)
    }

    @Test func verifyWithKeyRecordFileAndPrivateExchange() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = "v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"
        let recordFile = directory.appendingPathComponent("record.txt")
        try "# published record\n\(record)\n".write(to: recordFile, atomically: true, encoding: .utf8)
        let file = "\(vectors)/derived-ischedule-request-A-rsa-sha256.http"
        let viaRecord = try CLIRunner.run(["dkim", "verify", "--request", file, "--key-record", recordFile.path, "--now", "1700000100"])
        #expect(viaRecord.status == 0)

        let exchange = directory.appendingPathComponent("exchange/example.com")
        try FileManager.default.createDirectory(at: exchange, withIntermediateDirectories: true)
        try record.write(to: exchange.appendingPathComponent("ischedule"), atomically: true, encoding: .utf8)
        let root = directory.appendingPathComponent("exchange").path
        let viaExchange = try CLIRunner.run(["dkim", "verify", "--request", file, "--private-exchange", root, "--now", "1700000100"])
        #expect(viaExchange.status == 0, "\(viaExchange.output)")
        // Vector B's q= is dns/txt only: a private-exchange key must not be used for it.
        let gated = try CLIRunner.run([
            "dkim", "verify", "--request", "\(vectors)/derived-ischedule-request-B-rsa-sha1.http",
            "--private-exchange", root, "--now", "1700000100", "--legacy-dialects"
        ])
        #expect(gated.status == 1 && gated.output.contains("no public key for s=ischedule d=example.com"))
    }

    @Test func badInputsGetOneLineNamingTheProblem() throws {
        let key = ["--public-key", "\(vectors)/apple-test_dkim-rsa2048-public.pem"]
        let missing = try CLIRunner.run(["dkim", "verify", "--request", "/nonexistent/request.http"] + key)
        #expect(missing.status == 1 && missing.stderr == "Error: request file /nonexistent/request.http: no such file\n")
        let notHTTP = try CLIRunner.run(["dkim", "verify", "--request", "\(vectors)/apple-test_dkim-rsa2048-public.pem"] + key)
        #expect(notHTTP.status == 1 && notHTTP.stderr.contains("line 1: request line must be 'METHOD TARGET HTTP/1.x'"))
        let badKey = try CLIRunner.run([
            "dkim", "verify", "--request", "\(vectors)/derived-ischedule-request-A-rsa-sha256.http",
            "--public-key", "\(vectors)/derived-ischedule-request-A-rsa-sha256.http"
        ])
        #expect(badKey.status == 1 && badKey.stderr.contains("not a PEM public key"))
        let twoSources = try CLIRunner.run(["dkim", "verify", "--request", "x", "--key-record", "y"] + key)
        #expect(twoSources.status != 0 && twoSources.stderr.contains("give at most one of --public-key or --key-record"))
        let unsignable = try CLIRunner.run([
            "dkim", "sign", "--request", "\(vectors)/derived-ischedule-request-A-rsa-sha256.http",
            "--key", "\(vectors)/apple-test_dkim-rsa2048-public.pem", "--domain", "example.com",
            "--selector", "s"
        ])
        #expect(unsignable.status == 1 && unsignable.stderr.contains("private key"))
        for result in [missing, notHTTP, badKey, twoSources, unsignable] {
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
        }
    }
}
