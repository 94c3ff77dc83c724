import Foundation
import ISchedule
import Logging
import TestSupport
import TestTraits
import Testing
import Transport

@testable import Gateway

/// The mail filter's decisions against real parts (NSD, a SQLite queue, an SMTP server for the
/// re-injection): what goes by iSchedule, what goes back unchanged, and when the MTA must wait.
@Suite(.waitsOnProcesses) struct IMIPIntakeTests {
    final class Bed: @unchecked Sendable {
        let dns: TestDNSServer
        let sink: TestSMTPServer
        let queue: SQLiteDeliveryStore
        let curl = CurlThread()
        let intake: IMIPIntake

        /// alpha.test is ours; beta.test publishes iSchedule; gamma.test has none; the test DNS
        /// server does not serve delta.test (it answers REFUSED: DNS cannot tell now).
        /// - Parameters:
        ///   - inferRequestsFrom: `imip-intake.infer-requests-from`.
        ///   - organizerCopies: where the organizers' own copies are found.
        init(
            logger: Logger = Logger(label: "test"), inferRequestsFrom: Set<String> = [], organizerCopies: (any OrganizerCopies)? = nil
        ) throws {
            func zone(_ name: String) -> String { zoneHead(name) }
            dns = try TestDNSServer(zones: [
                "beta.test": zone("beta.test") + "_ischedules._tcp IN SRV 0 0 8443 localhost.\n",
                "legacy.test": zone("legacy.test") + "_ischedule._tcp IN SRV 0 0 8008 localhost.\n",
                "gamma.test": zone("gamma.test"), "reject.test": zone("reject.test")
            ])
            let certificates = try TestCertificates()
            let tls = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
            sink = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
            queue = try SQLiteDeliveryStore(path: GatewayProcess.temporaryDirectory("intake").appendingPathComponent("q.sqlite").path)
            let resolver = DNSResolver(configuration: .init(servers: [.init(dns.server)!], timeoutSeconds: 1, attempts: 1))
            let reinjection = SMTPClient(
                configuration: SMTPConfiguration(
                    url: "smtp://127.0.0.1:\(sink.port)", startTLS: .optional,
                    connectTimeoutMilliseconds: 2_000, totalTimeoutMilliseconds: 10_000),
                thread: curl, resolver: resolver.hostResolver)
            intake = IMIPIntake(
                signingDomains: ["alpha.test"], localDomains: ["alpha.test"], trustedSenders: ["noreply@alpha.test"],
                inferRequestsFrom: inferRequestsFrom, organizerCopies: organizerCopies, discovery: ReceiverDiscovery(resolver: resolver),
                queue: queue, reinjection: reinjection, reportingHost: "gw.alpha.test", clock: .system, logger: logger)
        }

        func run(_ message: String, to recipients: [String], from sender: String = "noreply@alpha.test") async -> IMIPIntake.Outcome {
            await intake.process(Array(message.utf8), envelope: .init(sender: sender, recipients: recipients))
        }

        func stop() {
            curl.shutdown()
            sink.stop()
            dns.stop()
        }
    }

    /// A single-part iTIP e-mail (SabreDAV's plain IMipPlugin form).
    static func invitation(
        organizer: String = "alice@alpha.test", method: String = "REQUEST", component: String = "VEVENT",
        extraHeader: String = ""
    ) -> String {
        let attendees = ["mailto:bob@beta.test", "mailto:carol@gamma.test"]
        var calendar = String(decoding: ITIP.calendar(method: method, organizer: "mailto:\(organizer)", attendees: attendees), as: UTF8.self)
        if component == "VFREEBUSY" {
            calendar =
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb-1\r\n"
                + "DTSTAMP:20261126T120000Z\r\nDTSTART:20261201T000000Z\r\nDTEND:20261202T000000Z\r\nORGANIZER:mailto:\(organizer)\r\n"
                + "ATTENDEE:mailto:bob@beta.test\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
        }
        return "From: \(organizer)\r\nSubject: Invitation\r\nMessage-ID: <m-\(UUID().uuidString)@alpha.test>\r\n\(extraHeader)"
            + "Content-Type: text/calendar; method=\(method); charset=utf-8\r\n\r\n" + calendar
    }

    @Test func invitationSplitsAndIsQueuedOnce() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let message = Self.invitation()
        let outcome = await bed.run(message, to: ["bob@beta.test", "carol@gamma.test", "dan@alpha.test"])
        #expect(outcome == .done(scheduled: ["bob@beta.test"], mailed: ["carol@gamma.test", "dan@alpha.test"]))
        let records = try await bed.queue.list(state: .pending, limit: 10)
        #expect(records.map(\.domain) == ["beta.test"])
        #expect(records.first?.recipients == ["mailto:bob@beta.test"])
        #expect(records.first?.originator == "mailto:alice@alpha.test")
        #expect(records.first.map { String(decoding: $0.body, as: UTF8.self).contains("METHOD:REQUEST") } == true)
        // Bare LF from a pipe becomes CRLF on the way back; otherwise unchanged.
        #expect(bed.sink.messages.first?["data"] as? String == message)
        #expect(bed.sink.messages.first?["to"] as? [String] == ["carol@gamma.test", "dan@alpha.test"])

        // The same message again (an MTA retry): nothing queued twice, the mail goes again.
        let lf = message.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(await bed.run(lf, to: ["bob@beta.test", "carol@gamma.test"]) == .done(scheduled: ["bob@beta.test"], mailed: ["carol@gamma.test"]))
        #expect(try await bed.queue.list(state: .pending, limit: 10).count == 1)
        #expect(bed.sink.messages.last?["data"] as? String == message)
    }

    @Test("tls-policy verify (the default): a domain publishing only plain _ischedule._tcp is mailed, not queued for iSchedule")
    func plaintextOnlyDomainIsMailedUnderVerify() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let outcome = await bed.run(Self.invitation(), to: ["bob@beta.test", "lee@legacy.test"])
        #expect(outcome == .done(scheduled: ["bob@beta.test"], mailed: ["lee@legacy.test"]))
        #expect(try await bed.queue.list(state: .pending, limit: 10).map(\.domain) == ["beta.test"])
    }

    @Test func whatIsNotOursToScheduleGoesBackUnchanged() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let cases = [
            ("a plain e-mail", "From: a@alpha.test\r\nSubject: hi\r\n\r\nhello\r\n"),
            ("an organizer in another domain", Self.invitation(organizer: "zed@elsewhere.test")),
            ("the gateway's own iMIP fallback", Self.invitation(extraHeader: "X-iSchedule-Gateway: iMIP fallback\r\n")),
            ("free-busy", Self.invitation(component: "VFREEBUSY"))
        ]
        for (what, message) in cases {
            #expect(await bed.run(message, to: ["bob@beta.test"]) == .done(scheduled: [], mailed: ["bob@beta.test"]), "\(what)")
        }
        #expect(try await bed.queue.list(state: nil, limit: 10).isEmpty)
        #expect(bed.sink.messages.count == cases.count)
    }

    @Test("a domain whose DNS cannot answer is queued (the worker asks again), never holding the batch; the MTA waits only for its own re-injection")
    func dnsTroubleDoesNotHoldTheBatch() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        // The test DNS server refuses delta.test: DNS cannot tell now. eve is queued for iSchedule
        // (the worker asks again, and hands the e-mail back if delta.test has no iSchedule after
        // all); carol's mail goes at once.
        let outcome = await bed.run(Self.invitation(), to: ["carol@gamma.test", "eve@delta.test"])
        #expect(outcome == .done(scheduled: ["eve@delta.test"], mailed: ["carol@gamma.test"]), "\(outcome)")
        let record = try #require(try await bed.queue.list(state: .pending, limit: 10).first)
        #expect(record.domain == "delta.test" && record.originalMail != nil)
        #expect(bed.sink.messages.count == 1)
        // The re-injection answers 451: the MTA keeps the message (75); 550 for a lone recipient: 69.
        guard case .temporaryFailure = await bed.run("Subject: x\r\n\r\ny\r\n", to: ["someone@later.test"]) else {
            Issue.record("expected a temporary failure for 451")
            return
        }
        guard case .refused(let refusal) = await bed.run("Subject: x\r\n\r\ny\r\n", to: ["someone@reject.test"]) else {
            Issue.record("expected a refusal for 550")
            return
        }
        #expect(refusal.contains("550"))
    }

    @Test("one recipient the MTA refuses does not take the others down: each is tried alone, the refused bounced by us, the later ones queued")
    func oneRefusedRecipientAmongMany() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let outcome = await bed.run(
            "Subject: x\r\nMessage-ID: <plain-1@alpha.test>\r\n\r\ny\r\n",
            to: ["ann@gamma.test", "zoe@reject.test", "tim@later.test", "bea@gamma.test"])
        #expect(
            outcome == .done(scheduled: [], mailed: ["ann@gamma.test", "tim@later.test", "bea@gamma.test"], bounced: ["zoe@reject.test"]),
            "\(outcome)")
        #expect(Set(bed.sink.messages.flatMap { $0["to"] as? [String] ?? [] }) == ["ann@gamma.test", "bea@gamma.test"])
        let records = try await bed.queue.list(state: .pending, limit: 10)
        #expect(records.contains { $0.kind == .reinject && $0.recipients == ["tim@later.test"] && $0.envelopeSender == "noreply@alpha.test" })
        #expect(
            records.contains {
                $0.kind == .reinject && $0.recipients == ["noreply@alpha.test"] && $0.envelopeSender == ""
                    && String(decoding: $0.body, as: UTF8.self).contains("Final-Recipient: rfc822; zoe@reject.test")
            })
        // All refused and nothing of ours: the MTA bounces the batch itself.
        guard case .refused = await bed.run("Subject: x\r\n\r\ny\r\n", to: ["a@reject.test", "b@reject.test"]) else {
            Issue.record("expected 69")
            return
        }
    }

    @Test(
        "one message in several batches of recipients: every batch is queued, each (message, recipient) once, each batch its own iSchedule-Message-ID"
    )
    func batchesOfOneMessage() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let message = Self.invitation()
        let first = (0..<50).map { "u\($0)@beta.test" }
        let second = (50..<60).map { "u\($0)@beta.test" }
        #expect(await bed.run(message, to: first) == .done(scheduled: first.sorted(), mailed: []))
        #expect(await bed.run(message, to: second) == .done(scheduled: second.sorted(), mailed: []))
        // A retry of the first batch, and one regrouped by the MTA, queue nothing again.
        _ = await bed.run(message, to: first)
        _ = await bed.run(message, to: Array(first.suffix(5) + second.prefix(5)))
        let records = try await bed.queue.list(state: .pending, limit: 100)
        #expect(records.count == 2)
        #expect(records.flatMap(\.recipients).sorted() == (first + second).map { "mailto:\($0)" }.sorted())
        #expect(Set(records.map(\.messageID)).count == 2, "\(records.map(\.messageID))")
        // Each keeps the way back to e-mail: the original message and its envelope sender.
        #expect(records.allSatisfy { $0.envelopeSender == "noreply@alpha.test" && $0.originalMail == Array(message.utf8) })
    }

    @Test("envelope addresses that are not a plain local@domain go back to the MTA as they came, never into the queue")
    func unreadableEnvelopeAddresses() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let odd = ["\"john doe\"@beta.test", "a@b@beta.test", "@route.test:c@beta.test", "d.@beta.test", "e@[127.0.0.1]"]
        for address in odd {
            let outcome = await bed.run(Self.invitation(), to: [address, "bob@beta.test"])
            guard case .done(let scheduled, let mailed, let bounced) = outcome else {
                Issue.record("\(address): \(outcome)")
                continue
            }
            #expect(scheduled == ["bob@beta.test"] || scheduled.isEmpty, "\(address)")
            // Back to the MTA (this test's SMTP server refuses some of these forms outright: then our bounce).
            #expect(mailed + bounced == [address], "\(address)")
        }
        #expect(
            try await bed.queue.list(state: nil, limit: 50).filter { $0.kind == .iSchedule }.flatMap(\.recipients)
                .allSatisfy { $0 == "mailto:bob@beta.test" })
    }

    @Test("the calendar of a MIME part whose content does not end in CRLF is queued as a well-formed iCalendar stream")
    func calendarPartEndsInCRLF() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let calendar = String(
            decoding: ITIP.calendar(
                method: "REQUEST", organizer: "mailto:alice@alpha.test",
                attendees: ["mailto:bob@beta.test"]), as: UTF8.self)
        let bare = String(decoding: Array(calendar.utf8).dropLast(2), as: UTF8.self)  // ends "END:VCALENDAR", no line break
        for (what, encoding, body) in [
            ("7bit", "7bit", bare), ("base64", "base64", Data(bare.utf8).base64EncodedString()),
            ("quoted-printable", "quoted-printable", bare)
        ] {
            let message =
                "From: alice@alpha.test\r\nMessage-ID: <crlf-\(what)@alpha.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
                + "Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\nContent-Transfer-Encoding: \(encoding)\r\n\r\n"
                + body + "\r\n--b--\r\n"
            #expect(await bed.run(message, to: ["bob@beta.test"]) == .done(scheduled: ["bob@beta.test"], mailed: []), "\(what)")
        }
        let records = try await bed.queue.list(state: .pending, limit: 10)
        #expect(records.count == 3)
        for record in records {
            #expect(record.body == Array(calendar.utf8), "\(String(decoding: record.body, as: UTF8.self).suffix(30).debugDescription)")
        }
    }

    @Test("the MTA refuses for good to take back recipients of a message whose others are queued: their sender gets our bounce, exit 0")
    func refusedReinjectionBounces() async throws {
        let bed = try Bed()
        defer { bed.stop() }
        let outcome = await bed.run(Self.invitation(), to: ["bob@beta.test", "zoe@reject.test"])
        #expect(outcome == .done(scheduled: ["bob@beta.test"], mailed: [], bounced: ["zoe@reject.test"]))
        let records = try await bed.queue.list(state: .pending, limit: 10)
        let bounce = try #require(records.first { $0.kind == .reinject })
        #expect(bounce.envelopeSender == "" && bounce.recipients == ["noreply@alpha.test"])
        let text = String(decoding: bounce.body, as: UTF8.self)
        #expect(text.contains("Final-Recipient: rfc822; zoe@reject.test") && text.contains("Status: 5.1.1"), "\(text)")
        #expect(text.contains("report-type=delivery-status") && !text.contains("bob@beta.test\r\nAction"))
        // Nothing was queued for iSchedule yet and the MTA refuses: it bounces the batch itself (69).
        guard case .refused = await bed.run("Subject: x\r\n\r\ny\r\n", to: ["zoe@reject.test"]) else {
            Issue.record("expected 69")
            return
        }
    }

    @Test(
        "only the calendar's originator or a trusted sender causes a signature: forged organizers, replies and null senders go back as e-mail, the reason logged"
    )
    func senderBinding() async throws {
        let lines = LogLines()
        let bed = try Bed(logger: Logger(label: "test") { _ in RecordingLogHandler(sink: lines) })
        defer { bed.stop() }
        let reply = Self.invitation(organizer: "zed@beta.test", method: "REPLY")
            .replacingOccurrences(of: "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@beta.test", with: "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ceo@alpha.test")
            .replacingOccurrences(of: "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@gamma.test\r\n", with: "")
        let refused: [(String, String, String)] = [
            ("a local user writing someone else's ORGANIZER", Self.invitation(organizer: "ceo@alpha.test"), "mallory@alpha.test"),
            ("a foreign envelope sender", Self.invitation(organizer: "ceo@alpha.test"), "ceo@alpha.test.evil.test"),
            ("the null sender", Self.invitation(organizer: "ceo@alpha.test"), ""),
            ("a forged ATTENDEE in a REPLY", reply, "mallory@alpha.test"),
            ("an unreadable envelope sender", Self.invitation(organizer: "ceo@alpha.test"), "\"ceo@alpha.test\"@evil.test")
        ]
        for (what, message, sender) in refused {
            let outcome = await bed.run(message, to: ["zed@beta.test"], from: sender)
            // Back to the MTA as it came (this test's SMTP server may refuse the odder senders itself: 69).
            let backAsMail =
                switch outcome {
                case .done(let scheduled, let mailed, _): scheduled.isEmpty && mailed == ["zed@beta.test"]
                case .refused: sender.contains("\"")
                case .temporaryFailure: false
                }
            #expect(backAsMail, "\(what): \(outcome)")
        }
        #expect(try await bed.queue.list(state: nil, limit: 10).filter { $0.kind == .iSchedule }.isEmpty)
        let logged = lines.lines.withLock { $0 }.filter { $0.contains("back to the MTA as e-mail") }
        #expect(logged.count == refused.count, "\(logged)")
        #expect(logged.first?.contains("envelope sender mallory@alpha.test is neither the calendar's originator ceo@alpha.test") == true)
        #expect(logged.contains { $0.contains("null sender") })
        // The organizer's own envelope (any case), the replying attendee's own, and the trusted system sender do.
        #expect(
            await bed.run(Self.invitation(organizer: "ceo@alpha.test"), to: ["zed@beta.test"], from: "CEO@Alpha.test")
                == .done(scheduled: ["zed@beta.test"], mailed: []))
        #expect(await bed.run(reply, to: ["zed@beta.test"], from: "ceo@alpha.test") == .done(scheduled: ["zed@beta.test"], mailed: []))
        #expect(
            await bed.run(Self.invitation(organizer: "dan@alpha.test"), to: ["zed@beta.test"], from: "noreply@alpha.test")
                == .done(scheduled: ["zed@beta.test"], mailed: []))
    }
}
