import DKIM
import Foundation
import TestSupport
import TestTraits
import Testing

/// `imip-intake` behind a real Postfix: invitation e-mails from a CalDAV server that only sends
/// mail go out by iSchedule where the recipient's domain has it, and unchanged by e-mail elsewhere.
/// Postfix, the gateway and the filter run as `nobody`, as they would as the gateway's own user.
@Suite("Mail filter (imip-intake) behind Postfix", .serialized, .waitsOnProcesses)
struct MailFilterTests {
    /// alpha.test is ours (signing key, the CalDAV server's domain); beta.test publishes iSchedule
    /// (SRV to the recording receiver, which answers 3.7 for local parts starting "unknown");
    /// refusing.test too, but the receiver answers its requests HTTP 403; gamma.test has none.
    final class World: @unchecked Sendable {
        let receiver: TestCalendarServer
        let sink: TestSMTPServer
        let dns: TestDNSServer
        private(set) var gateway: GatewayProcess
        let postfix: TestPostfix
        let key: RSAPrivateKey
        private(set) var configuration: GatewayYAML

        init() throws {
            receiver = try TestCalendarServer()
            let certificates = try TestCertificates()
            let tls = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
            sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
            func zone(_ name: String) -> String { zoneHead(name) }
            let srv = "_ischedule._tcp IN SRV 0 0 \(receiver.port) localhost.\n"
            dns = try TestDNSServer(zones: [
                "beta.test": zone("beta.test") + srv, "refusing.test": zone("refusing.test") + srv,
                "gamma.test": zone("gamma.test")
            ])
            let directory = GatewayProcess.temporaryDirectory("mailfilter")
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true)
            key = try RSAPrivateKey.generate(bits: 2048)
            try key.pkcs8PEM.write(to: directory.appendingPathComponent("keys/alpha.pem"), atomically: true, encoding: .utf8)
            let configurationFile = directory.appendingPathComponent("gateway.yaml")
            let binary = GatewayBinary.url.path
            postfix = try TestPostfix(services: try Self.filterServices(binary: binary, configuration: configurationFile.path), relayPort: sink.port)
            configuration = Self.configuration(dns: dns.server, reinjectionPort: postfix.reinjectionPort)
            configuration["imip-intake", "trusted-senders"] = ["noreply@alpha.test"]
            gateway = try GatewayProcess(configuration: configuration, directory: directory, launcher: Self.asNobody(owning: directory))
        }

        /// Restarts the gateway with `overrides` merged into its configuration (the filter reads
        /// the same file at its next message): for settings that name a server started later.
        func reconfigure(_ overrides: GatewayYAML.Value) throws {
            _ = gateway.stop()
            configuration.merge(overrides)
            try configuration.write(to: gateway.directory.appendingPathComponent("gateway.yaml"))
            try startGateway()
        }

        /// The gateway behind the mail filter: signs for alpha.test (keys/alpha.pem), resolves with
        /// the test's DNS server, reinjects through Postfix's port.
        static func configuration(dns: String, reinjectionPort: UInt16) -> GatewayYAML {
            var configuration = GatewayYAML.local()
            configuration.merge([
                "dns": ["servers": [.scalar(dns)]], "delivery": ["poll-interval": "50ms"], "timeouts": ["connect": "2s"],
                "outbound": ["tls-policy": "may"],
                "imip-intake": ["reinject-url": "smtp://127.0.0.1:\(reinjectionPort)"]
            ])
            return configuration
        }

        /// The deployment guide's master.cf lines (deploy/postfix/master.cf), with this test's
        /// ports, user (nobody instead of ischedule) and paths.
        static func filterServices(binary: String, configuration: String) throws -> String {
            let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("deploy/postfix")
            let file = deploy.appendingPathComponent("master.cf")
            // The shipped submitters table (which lists nobody) naming this test's CalDAV server
            // and its submitting client, 127.0.0.1.
            let submitters = FileManager.default.temporaryDirectory.appendingPathComponent("submitters-\(UUID().uuidString.prefix(8)).cidr").path
            try (try String(contentsOf: deploy.appendingPathComponent("ischedule-submitters.cidr"), encoding: .utf8) + "127.0.0.1 OK\n")
                .write(toFile: submitters, atomically: true, encoding: .utf8)
            return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
                .replacingOccurrences(of: "127.0.0.1:10025", with: "127.0.0.1:SUBMISSION_PORT")
                .replacingOccurrences(of: "127.0.0.1:10026", with: "127.0.0.1:REINJECTION_PORT")
                .replacingOccurrences(of: "user=ischedule-gateway", with: "user=nobody")
                .replacingOccurrences(of: "/usr/bin/ischedule-gateway", with: binary)
                .replacingOccurrences(of: "/etc/ischedule-gateway/gateway.yaml", with: configuration)
                .replacingOccurrences(of: "/etc/postfix/ischedule-submitters.cidr", with: submitters)
        }

        /// Runs the gateway as nobody, owner of its directory (keys, data), as the pipe runs the filter.
        static func asNobody(owning directory: URL) -> [String] {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/chown"), arguments: ["-R", "nobody:nogroup", directory.path]).waitUntilExit()
            _ = chmod(directory.appendingPathComponent("keys/alpha.pem").path, 0o600)
            return ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        }

        /// Hands a message to Postfix's submission port, as the CalDAV server would (smtplib), from
        /// `source` (another loopback address is another client).
        func submit(_ message: String, from sender: String, to recipients: [String], source: String = "127.0.0.1") throws {
            let script = """
                import smtplib, sys
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20, source_address=(sys.argv[4], 0)) as s:
                    s.sendmail(sys.argv[2], sys.argv[3].split(","), sys.stdin.buffer.read())
                """
            let run = try runPython(
                script, [String(postfix.submissionPort), sender, recipients.joined(separator: ","), source],
                input: Data(message.utf8))
            guard run.status == 0 else { throw ChildProcessError("submission to Postfix failed: \(run.output.suffix(500))") }
        }

        /// Kills the gateway (SIGKILL: no shutdown at all), as a crash or the OOM killer would.
        func killGateway() {
            gateway.process.send(SIGKILL)
            _ = gateway.process.waitForExit(timeout: 10)
        }

        /// Starts the gateway again on the same configuration and data.
        func startGateway() throws {
            gateway = try GatewayProcess(
                arguments: ["serve", "--config", gateway.directory.appendingPathComponent("gateway.yaml").path],
                directory: gateway.directory, listeners: 1, launcher: Self.asNobody(owning: gateway.directory))
        }

        func mails(to address: String) -> [[String: Any]] {
            sink.messages.filter { ($0["to"] as? [String])?.contains(address) == true }
        }

        func posts(for address: String) -> [TestCalendarServer.Record] {
            receiver.records.filter { $0.values("Recipient").contains { $0.contains(address) } }
        }

        func wait(seconds: Double, _ condition: () -> Bool) -> Bool { waitUntil(seconds: seconds, condition) }

        var logs: String { "gateway:\n\(gateway.log.suffix(2_000))\npostfix:\n\(postfix.log.suffix(3_000))" }

        func stop() {
            postfix.stop()
            _ = gateway.stop()
            receiver.stop()
            sink.stop()
            dns.stop()
        }
    }

    /// A Nextcloud-style invitation (Symfony Mailer: text and HTML, the calendar attached as
    /// `text/calendar; method=REQUEST`, base64) from alice@alpha.test.
    static func invitation(messageID: String, attendees: [String]) -> String {
        let calendar = String(
            decoding: ITIP.calendar(
                method: "REQUEST", organizer: "mailto:alice@alpha.test",
                attendees: attendees.map { "mailto:\($0)" }), as: UTF8.self)
        let encoded = Data(calendar.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn,
            .endLineWithLineFeed
        ])
        return """
            From: Alice via Nextcloud <noreply@alpha.test>\r
            Reply-To: alice@alpha.test\r
            To: \(attendees.joined(separator: ", "))\r
            Subject: Invitation: Planning meeting\r
            Date: Thu, 26 Nov 2026 10:00:00 +0000\r
            Message-ID: <\(messageID)@alpha.test>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="=_outer"\r
            \r
            --=_outer\r
            Content-Type: multipart/alternative; boundary="=_inner"\r
            \r
            --=_inner\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Alice invited you to Planning meeting.\r
            --=_inner\r
            Content-Type: text/html; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <p>Alice invited you to <b>Planning meeting</b>.</p>\r
            --=_inner--\r
            \r
            --=_outer\r
            Content-Type: text/calendar; method=REQUEST; charset=utf-8; name=event.ics\r
            Content-Disposition: attachment; filename=event.ics\r
            Content-Transfer-Encoding: base64\r
            \r
            \(encoded)\r
            --=_outer--\r

            """
    }

    /// The message as it left Postfix, below the Received lines Postfix puts on top.
    static func belowTrace(_ data: String) -> String {
        var lines = data.components(separatedBy: "\r\n")
        while let first = lines.first, first.hasPrefix("Received:") || first.hasPrefix(" ") || first.hasPrefix("\t") { lines.removeFirst() }
        return lines.joined(separator: "\r\n")
    }

    @Test(
        "an invitation goes by iSchedule to the domain that has it (signed, verifiable) and unchanged by e-mail to the other; plain mail passes untouched"
    )
    func invitationSplitsByDomain() async throws {
        let world = try World()
        defer { world.stop() }
        let message = Self.invitation(messageID: "split-1", attendees: ["bob@beta.test", "carol@gamma.test"])
        try world.submit(message, from: "noreply@alpha.test", to: ["bob@beta.test", "carol@gamma.test"])

        #expect(
            world.wait(seconds: 30) { !world.posts(for: "bob@beta.test").isEmpty && !world.mails(to: "carol@gamma.test").isEmpty },
            "\(world.logs)")
        let post = try #require(world.posts(for: "bob@beta.test").first)
        #expect(post.values("Recipient") == ["mailto:bob@beta.test"])
        #expect(post.values("Originator") == ["mailto:alice@alpha.test"])
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [KeyRecord.text(for: world.key.publicKey)])]))
        let verified = try await verifier.verify(
            headers: post.headers.map { HeaderField(name: $0.name, value: $0.value) },
            body: Array(post.body.utf8))
        #expect(verified.domain == "alpha.test")
        #expect(post.body.contains("mailto:bob@beta.test") && post.body.contains("METHOD:REQUEST"), "\(post.body)")

        // carol's copy is the message as submitted; bob gets no e-mail, carol no iSchedule.
        let mail = try #require(world.mails(to: "carol@gamma.test").first)
        #expect(mail["to"] as? [String] == ["carol@gamma.test"])
        #expect(Self.belowTrace(mail["data"] as? String ?? "") == message, "\(mail["data"] ?? "")")
        #expect(world.mails(to: "bob@beta.test").isEmpty)
        #expect(world.posts(for: "carol@gamma.test").isEmpty)

        // A plain e-mail to the iSchedule domain is mail.
        let plain =
            "From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: lunch?\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <lunch@alpha.test>\r\n\r\nAt noon.\r\n"
        try world.submit(plain, from: "alice@alpha.test", to: ["bob@beta.test"])
        #expect(world.wait(seconds: 30) { !world.mails(to: "bob@beta.test").isEmpty }, "\(world.logs)")
        #expect(Self.belowTrace(world.mails(to: "bob@beta.test").first?["data"] as? String ?? "") == plain)
        #expect(world.posts(for: "bob@beta.test").count == 1)
    }

    @Test(
        "Cyrus IMAP, which e-mails invitations to remote attendees, through Postfix and the filter: the invitation reaches the iSchedule domain signed"
    )
    func cyrusInvitationGoesByISchedule() async throws {
        let world = try World()
        defer { world.stop() }
        let cyrus = try TestCyrus(domain: "alpha.test", users: ["alice"], smtpPort: world.postfix.submissionPort)
        defer { cyrus.stop() }
        let event = """
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//test//EN\r
            BEGIN:VEVENT\r
            UID:cyrus-remote-1@alpha.test\r
            DTSTAMP:20261126T120000Z\r
            DTSTART:20261203T150000Z\r
            DTEND:20261203T160000Z\r
            SUMMARY:Cross-server review\r
            ORGANIZER:mailto:alice@alpha.test\r
            ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@alpha.test\r
            ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:zed@beta.test\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        #expect(try cyrus.put(user: "alice", name: "cyrus-remote-1.ics", calendar: event) == 201)
        #expect(world.wait(seconds: 30) { !world.posts(for: "zed@beta.test").isEmpty }, "\(world.logs)")
        let post = try #require(world.posts(for: "zed@beta.test").first)
        #expect(post.values("Originator") == ["mailto:alice@alpha.test"])
        #expect(post.body.contains("UID:cyrus-remote-1@alpha.test") && post.body.contains("METHOD:REQUEST"), "\(post.body)")
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [KeyRecord.text(for: world.key.publicKey)])]))
        let verified = try await verifier.verify(
            headers: post.headers.map { HeaderField(name: $0.name, value: $0.value) },
            body: Array(post.body.utf8))
        #expect(verified.domain == "alpha.test")
        #expect(world.mails(to: "zed@beta.test").isEmpty, "the invitation went by iSchedule, not also by e-mail")
    }

    @Test("after exit 75 (re-injection closed) Postfix delivers the same message again: the e-mail goes out, the iSchedule message is not sent twice")
    func retryDoesNotScheduleTwice() throws {
        let world = try World()
        defer { world.stop() }
        try world.postfix.setReinjection(accepting: false)
        let message = Self.invitation(messageID: "retry-1", attendees: ["bob@beta.test", "carol@gamma.test"])
        try world.submit(message, from: "noreply@alpha.test", to: ["bob@beta.test", "carol@gamma.test"])
        // The filter queued bob's delivery, then could not re-inject carol's mail: 75, Postfix defers.
        #expect(world.wait(seconds: 30) { world.postfix.log.contains("status=deferred") }, "\(world.logs)")
        #expect(world.wait(seconds: 15) { world.posts(for: "bob@beta.test").count == 1 }, "\(world.logs)")
        #expect(world.mails(to: "carol@gamma.test").isEmpty)

        try world.postfix.setReinjection(accepting: true)
        try world.postfix.flush()
        #expect(world.wait(seconds: 30) { !world.mails(to: "carol@gamma.test").isEmpty }, "\(world.logs)")
        usleep(1_000_000)  // time for a second iSchedule delivery, were one queued
        #expect(world.posts(for: "bob@beta.test").count == 1, "\(world.logs)")
        #expect(world.mails(to: "carol@gamma.test").count == 1)
        #expect(world.postfix.log.components(separatedBy: "relay=ischedule").count - 1 >= 2, "\(world.postfix.log)")
    }

    /// Every message the sink took whose envelope or data names `address`, by recipient.
    func deliveries(_ world: World) -> [String: Int] {
        var counts: [String: Int] = [:]
        for mail in world.sink.messages { for to in mail["to"] as? [String] ?? [] { counts[to, default: 0] += 1 } }
        return counts
    }

    @Test(
        "one invitation to 60 recipients at an iSchedule domain and 3 at a mail-only one, through the shipped master.cf (batches of 50): all 63 reached, each once"
    )
    func sixtyThreeRecipients() async throws {
        let world = try World()
        defer { world.stop() }
        let scheduled = (0..<60).map { "u\($0)@beta.test" }
        let mailOnly = ["m0@gamma.test", "m1@gamma.test", "m2@gamma.test"]
        let message = Self.invitation(messageID: "sixty-three", attendees: scheduled + mailOnly)
        try world.submit(message, from: "alice@alpha.test", to: scheduled + mailOnly)
        #expect(
            world.wait(seconds: 60) {
                let posted = Set(world.receiver.records.flatMap { $0.values("Recipient").flatMap { $0.split(separator: ",").map(String.init) } })
                return posted.count == 60 && mailOnly.allSatisfy { !world.mails(to: $0).isEmpty }
            }, "\(world.logs)")
        usleep(1_500_000)  // time for anything that would arrive twice
        var posts: [String: Int] = [:]
        for record in world.receiver.records {
            for recipient in record.values("Recipient").flatMap({ $0.split(separator: ",") }) { posts[String(recipient), default: 0] += 1 }
        }
        #expect(Set(posts.keys) == Set(scheduled.map { "mailto:\($0)" }), "\(posts.keys.sorted())")
        #expect(posts.values.allSatisfy { $0 == 1 }, "\(posts.filter { $0.value > 1 })")
        let mailed = deliveries(world)
        #expect(mailOnly.allSatisfy { mailed[$0] == 1 } && mailed.count == 3, "\(mailed)")
        // Postfix handed the message to the filter in two batches (50 + 10 of beta.test, gamma.test apart).
        #expect(world.postfix.log.components(separatedBy: "relay=ischedule").count - 1 >= 2, "\(world.postfix.log)")
    }

    @Test(
        "recipients the receiver answers 3.7 or refuses (HTTP 403) get the original e-mail after all; one the MTA then refuses is named in a DSN to the sender; nothing twice"
    )
    func undeliveredRecipientsGetTheMailOrABounce() async throws {
        let world = try World()
        defer { world.stop() }
        try world.postfix.refuseAtReinjection(["unknown-gone@beta.test"])
        let delivered = (0..<6).map { "u\($0)@beta.test" }
        let returned = ["unknown-a@beta.test", "unknown-b@beta.test", "x@refusing.test", "y@refusing.test"]
        let bounced = "unknown-gone@beta.test"
        let mailOnly = "m0@gamma.test"
        let all = delivered + returned + [bounced, mailOnly]
        let message = Self.invitation(messageID: "mixed-answers", attendees: all)
        try world.submit(message, from: "alice@alpha.test", to: all)

        let dsnSeen = { world.sink.messages.contains { ($0["to"] as? [String]) == ["alice@alpha.test"] } }
        #expect(world.wait(seconds: 60) { (returned + [mailOnly]).allSatisfy { !world.mails(to: $0).isEmpty } && dsnSeen() }, "\(world.logs)")
        usleep(1_500_000)
        let mailed = deliveries(world)
        // The returned e-mail is the message as submitted, for exactly those recipients.
        for recipient in returned + [mailOnly] {
            #expect(mailed[recipient] == 1, "\(recipient): \(mailed)")
            #expect(world.mails(to: recipient).allSatisfy { Self.belowTrace($0["data"] as? String ?? "") == message })
        }
        #expect(delivered.allSatisfy { mailed[$0] == nil } && mailed[bounced] == nil, "\(mailed)")
        // The bounce: from the null sender to the envelope sender, a multipart/report naming only the refused recipient.
        let dsn = try #require(world.sink.messages.first { ($0["to"] as? [String]) == ["alice@alpha.test"] })
        #expect(dsn["from"] as? String == "<>")
        let parsed = dsn["parsed"] as? [String: Any] ?? [:]
        #expect(parsed["top"] as? String == "multipart/report" && (parsed["defects"] as? [String] ?? ["?"]).isEmpty, "\(parsed)")
        let text = dsn["data"] as? String ?? ""
        #expect(text.contains("Final-Recipient: rfc822; \(bounced)") && text.contains("Status: 5.1.1"), "\(text)")
        #expect(!returned.contains { text.contains("rfc822; \($0)") } && text.contains("Message-ID: <mixed-answers@alpha.test>"))
        #expect(mailed["alice@alpha.test"] == 1)
        // iSchedule delivered the others once each; the 3.7 and 403 recipients were asked once too.
        for recipient in delivered { #expect(world.posts(for: recipient).count == 1, "\(recipient)") }
        #expect(world.posts(for: mailOnly).isEmpty)
    }

    @Test("the gateway killed (kill -9) while the filter queues: after its restart each queued recipient is delivered or gets the e-mail, once")
    func gatewayCrashLosesNothing() throws {
        let world = try World()
        defer { world.stop() }
        world.killGateway()
        let all = ["bob@beta.test", "unknown-k@beta.test", "carol@gamma.test"]
        let message = Self.invitation(messageID: "crash-1", attendees: all)
        try world.submit(message, from: "alice@alpha.test", to: all)
        // The filter does not need the running gateway: Postfix is done with the message once it queued.
        #expect(world.wait(seconds: 30) { !world.mails(to: "carol@gamma.test").isEmpty }, "\(world.logs)")
        #expect(world.receiver.records.isEmpty && world.mails(to: "unknown-k@beta.test").isEmpty)
        try world.startGateway()
        #expect(
            world.wait(seconds: 30) { world.posts(for: "bob@beta.test").count == 1 && !world.mails(to: "unknown-k@beta.test").isEmpty },
            "\(world.logs)")
        usleep(1_500_000)
        #expect(world.posts(for: "bob@beta.test").count == 1 && world.mails(to: "unknown-k@beta.test").count == 1)
        #expect(world.mails(to: "carol@gamma.test").count == 1 && world.mails(to: "bob@beta.test").isEmpty)
    }

    @Test(
        "who may cause a signature: a local user writing someone else's ORGANIZER gets e-mail only; a client not listed as a submitter is refused by Postfix"
    )
    func onlyTheOriginatorMaySign() throws {
        let world = try World()
        defer { world.stop() }
        let forged = Self.invitation(messageID: "forged-1", attendees: ["bob@beta.test"])  // ORGANIZER alice@alpha.test
        try world.submit(forged, from: "mallory@alpha.test", to: ["bob@beta.test"])
        #expect(world.wait(seconds: 30) { !world.mails(to: "bob@beta.test").isEmpty }, "\(world.logs)")
        #expect(Self.belowTrace(world.mails(to: "bob@beta.test").first?["data"] as? String ?? "") == forged)
        usleep(1_000_000)
        #expect(world.posts(for: "bob@beta.test").isEmpty, "nothing signed for alice on mallory's word")
        // Another client (127.0.0.2, not in ischedule-submitters.cidr) may not submit at all.
        #expect(throws: ChildProcessError.self) {
            try world.submit(
                Self.invitation(messageID: "stranger-1", attendees: ["bob@beta.test"]), from: "alice@alpha.test",
                to: ["bob@beta.test"], source: "127.0.0.2")
        }
        // The organizer's own envelope does.
        try world.submit(Self.invitation(messageID: "own-1", attendees: ["bob@beta.test"]), from: "alice@alpha.test", to: ["bob@beta.test"])
        #expect(world.wait(seconds: 30) { world.posts(for: "bob@beta.test").count == 1 }, "\(world.logs)")
    }
}
