import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// `ischedule-gateway init` as a new administrator runs it: into an empty directory, its records
/// published in the tests' NSD as printed, the gateway started on the written configuration,
/// and one invitation delivered, signed, to a second gateway that verifies it with the key from
/// DNS.
@Suite("init: from nothing to a delivered invitation", .serialized, .waitsOnProcesses)
struct InitTests {
    @Test("init writes a configuration that passes --check-config, a key, and records that, once published, let a partner verify our invitation")
    func fromNothingToADeliveredInvitation() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("isched.alpha.test", subjectAltNames: ["DNS:isched.alpha.test", "DNS:localhost"])
        let betaKey = try RSAPrivateKey.generate(bits: 2048)
        let (alphaPort, intakePort, betaPort) = (freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort())
        let dns = try TestDNSServer(zones: [
            "alpha.test": zoneHead("alpha.test"),
            "beta.test": zoneHead("beta.test") + "_ischedules._tcp IN SRV 0 1 \(betaPort) localhost.\n"
                + "gw._domainkey IN TXT \(zoneTXT(KeyRecord.text(for: betaKey.publicKey)))\n"
        ])
        defer { dns.stop() }
        let (alphaUpstream, betaUpstream) = (try TestCalendarServer(), try TestCalendarServer())
        defer { alphaUpstream.stop() }
        defer { betaUpstream.stop() }
        let beta = try TwoGatewayTests.World.start(
            "beta.test", port: betaPort, key: betaKey, upstream: betaUpstream, extra: [:], tls: tls, caFile: certificates.caFile,
            dnsServer: dns.server)
        defer { _ = beta.stop() }

        let directory = GatewayProcess.temporaryDirectory("init")
        let initialized = try GatewayBinary.run([
            "init", "--domain", "alpha.test", "--upstream", alphaUpstream.url(), "--hostname", "isched.alpha.test", "--directory", directory.path,
            "--listen", "127.0.0.1:\(alphaPort)", "--intake", "127.0.0.1:\(intakePort)", "--certificate", tls.cert, "--private-key", tls.key,
            "--data-directory", directory.appendingPathComponent("data").path, "--dns-server", dns.server, "--ca-file", certificates.caFile
        ])
        #expect(initialized.status == 0, "\(initialized.output)")
        let again = try GatewayBinary.run(["init", "--domain", "alpha.test", "--upstream", alphaUpstream.url(), "--directory", directory.path])
        #expect(again.status != 0 && again.output.contains("exists: init never replaces a file"), "\(again.output)")

        // Before the records are published, status says what is missing, line by line.
        let configurationPath = directory.appendingPathComponent("gateway.yaml").path
        let before = try GatewayBinary.run(["status", "--config", configurationPath])
        #expect(before.status != 0 && before.output.contains("alpha.test: PROBLEM: no iSchedule receiver published"), "\(before.output)")
        #expect(before.output.contains("key gw1 (signs): gw1._domainkey.alpha.test not published"), "\(before.output)")

        // Exactly the printed records (zone-file lines; comments start with ;), and the host's address.
        let records = initialized.output.split(separator: "\n").filter { $0.contains(" IN ") && !$0.hasPrefix(";") }
        #expect(records.contains { $0.contains(" IN SRV 0 1 \(alphaPort) isched.alpha.test.") } && records.contains { $0.contains(" IN TXT ") })
        #expect(records.contains { $0.hasPrefix("_\(alphaPort)._tcp.isched.alpha.test. IN TLSA 3 1 1 ") }, "\(records)")
        try dns.replaceZone(
            "alpha.test", with: zoneHead("alpha.test") + records.joined(separator: "\n") + "\nisched IN A 127.0.0.1\n", awaiting: "TXT",
            at: "gw1._domainkey.alpha.test", expecting: "DKIM1")

        let configuration = directory.appendingPathComponent("gateway.yaml")
        let checked = try GatewayBinary.run(["serve", "--config", configuration.path, "--check-config"])
        #expect(checked.status == 0, "\(checked.output)")
        // The one change a loopback lab needs: the partner's receiver is on 127.0.0.1.
        let text = try String(contentsOf: configuration, encoding: .utf8)
        try text.replacingOccurrences(of: "allow-private-addresses: false", with: "allow-private-addresses: true")
            .write(to: configuration, atomically: true, encoding: .utf8)
        let alpha = try GatewayProcess(arguments: ["serve", "--config", configuration.path], directory: directory, listeners: 2)
        defer { _ = alpha.stop() }

        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"])
        let response = try RawHTTPConnection.exchange(
            port: intakePort, path: "/outbound",
            headers: [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))
            ],
            body: body, timeout: 30)
        #expect(scheduleResponse(response)?.items.map(\.requestStatus.code) == ["1.2"], "\(response.text)\n\(alpha.log.suffix(2_000))")
        let after = try GatewayBinary.run(["status", "--config", configuration.path])
        #expect(after.output.contains("alpha.test: ok") && after.output.contains("gw1._domainkey.alpha.test published"), "\(after.output)")
        let delivered = try #require(betaUpstream.records.first, "\(beta.log.suffix(2_000))")
        #expect(delivered.values("Originator") == ["mailto:alice@alpha.test"] && Array(delivered.body.utf8) == body)
    }

    @Test("init refuses what would be unsafe or unreadable: a newline in a value, an intake off loopback, plain http to an upstream on another host")
    func refusesUnsafeInput() throws {
        let directory = GatewayProcess.temporaryDirectory("init-refused").path
        let base = ["init", "--domain", "alpha.test", "--directory", directory]
        for (extra, expected) in [
            (["--upstream", "http://127.0.0.1:8008/", "--intake", "127.0.0.1:8080\n@ IN NS evil.example."], "control character"),
            (["--upstream", "http://127.0.0.1:8008/", "--intake", "0.0.0.0:8080"], "is not a loopback address"),
            (["--upstream", "http://cal.alpha.test/ischedule"], "use https, not http")
        ] {
            let run = try GatewayBinary.run(base + extra)
            #expect(run.status != 0 && run.output.contains(expected), "\(extra): \(run.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing written")
    }

    @Test(
        "init for a CalDAV server on another host: an https upstream with a shared secret, the intake admitting only that server, with its own secret"
    )
    func aServerOnAnotherHost() throws {
        let directory = GatewayProcess.temporaryDirectory("init-remote")
        let run = try GatewayBinary.run([
            "init", "--domain", "alpha.test", "--upstream", "https://cal.alpha.test/ischedule", "--directory", directory.path, "--data-directory",
            directory.appendingPathComponent("data").path, "--intake", "192.0.2.1:8080", "--intake-from", "192.0.2.10"
        ])
        #expect(run.status == 0, "\(run.output)")
        let yaml = try String(contentsOf: directory.appendingPathComponent("gateway.yaml"), encoding: .utf8)
        #expect(yaml.contains("upstream-trust: shared-secret") && yaml.contains("allow-from: [\"192.0.2.10\"]"), "\(yaml)")
        let secrets = try String(contentsOf: directory.appendingPathComponent("secrets.env"), encoding: .utf8)
        #expect(secrets.contains("ISCHEDULE_UPSTREAM_SECRET=") && secrets.contains("ISCHEDULE_GATEWAY_SECRET="))
        let mode =
            (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("secrets.env").path)[.posixPermissions] as? NSNumber)?
            .intValue
        #expect(mode == 0o600)
        let checked = try GatewayBinary.run([
            "serve", "--config", directory.appendingPathComponent("gateway.yaml").path, "--env-file",
            directory.appendingPathComponent("secrets.env").path,
            "--check-config"
        ])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(run.output.contains("with the header X-ISchedule-Gateway-Secret"), "\(run.output)")
    }
}
