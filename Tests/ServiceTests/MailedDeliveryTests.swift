import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// `delivery: imip`: our domain's CalDAV server reads invitations from mail, so verified inbound
/// messages for its users go to the local MTA (here aiosmtpd) as RFC 6047 e-mail.
@Suite("Inbound delivery by e-mail (delivery: imip)", .waitsOnProcesses)
struct MailedDeliveryTests {
    @Test("a signed invitation arrives in the local mailbox as a well-formed RFC 6047 message with Authentication-Results; the answer is 1.1")
    func signedInvitationBecomesMail() throws {
        let certificates = try TestCertificates()
        let tls = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let mailbox = try TestSMTPServer(mode: .plain, cert: tls.cert, key: tls.key)
        defer { mailbox.stop() }
        let bed = try InboundBed(overrides: [
            "imip": ["smtp-url": "smtp://127.0.0.1:\(mailbox.port)", "from": "calendar-gateway@mail.test", "require-tls": false],
            "delivery": ["poll-interval": "50ms"],
            "domains": ["mail.test": ["delivery": "imip"], "later.test": ["delivery": "imip"]]
        ])
        defer { _ = bed.stop() }

        let (headers, body) = try bed.signedInvite(to: ["mailto:maria@mail.test", "mailto:bob@beta.test"])
        let response = try bed.post(headers, body: body)
        let items = try #require(scheduleResponse(response)?.items, "\(response.text)")
        #expect(items.map(\.requestStatus.code) == ["1.1", "1.2"], "\(response.text)")
        #expect(bed.upstream.records.map { $0.values("Recipient") } == [["mailto:bob@beta.test"]])

        #expect(waitUntil(seconds: 15) { !mailbox.messages.isEmpty }, "\(bed.gateway.log)")
        let mail = try #require(mailbox.messages.first)
        #expect(mail["from"] as? String == "calendar-gateway@mail.test")
        #expect(mail["to"] as? [String] == ["maria@mail.test"])
        let data = mail["data"] as? String ?? ""
        #expect(
            data.hasPrefix("Authentication-Results: mail.test; dkim=pass (iSchedule request signature) header.d=alpha.test header.s=s1\r\n"),
            "\(data.prefix(300))")
        let parsed = try #require(mail["parsed"] as? [String: Any])
        #expect(parsed["top"] as? String == "multipart/alternative")
        #expect((parsed["defects"] as? [String])?.isEmpty == true)
        let fields = try #require(parsed["headers"] as? [String: String])
        #expect(fields["reply-to"] == "alice@alpha.test" && fields["to"] == "maria@mail.test")
        let parts = try #require(parsed["parts"] as? [[String: Any]])
        let calendar = try #require(parts.first { $0["type"] as? String == "text/calendar" })
        #expect(calendar["method"] as? String == "REQUEST")
        #expect(Data(base64Encoded: calendar["payload"] as? String ?? "").map { Array($0) } == body)

        // A replay of the same request is refused; no second mail.
        let replay = try bed.post(headers, body: body)
        #expect(replay.status == 403, "\(replay.text)")
        usleep(500_000)
        #expect(mailbox.messages.count == 1)

        // The MTA defers (451 for later.test): 1.1 was promised, so the mail waits in the queue and is tried again.
        let (deferredHeaders, deferredBody) = try bed.signedInvite(to: ["mailto:lena@later.test"])
        #expect(scheduleResponse(try bed.post(deferredHeaders, body: deferredBody))?.items.map(\.requestStatus.code) == ["1.1"])
        let configuration = bed.gateway.directory.appendingPathComponent("gateway.yaml").path
        #expect(
            waitUntil(seconds: 15) {
                let list = try? GatewayBinary.run(["queue", "list", "--state", "pending", "--json", "--config", configuration])
                return list.map { $0.output.contains("lena@later.test") && $0.output.contains("451") } ?? false
            }, "\(bed.gateway.log)")
        #expect(mailbox.messages.count == 1)
    }

    @Test("delivery: imip needs the imip section, and no upstream")
    func configurationIsChecked() throws {
        let directory = GatewayProcess.temporaryDirectory("mailed-config")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("gateway.yaml")
        try "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  mail.test:\n    delivery: imip\n".write(to: file, atomically: true, encoding: .utf8)
        let missing = try GatewayBinary.run(["serve", "--check-config", "--config", file.path])
        #expect(missing.status != 0 && missing.output.contains("domains.mail.test.delivery: 'imip' needs the imip section"), "\(missing.output)")
        try "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  mail.test:\n    delivery: imip\n    upstream: http://127.0.0.1:8008/\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let both = try GatewayBinary.run(["serve", "--check-config", "--config", file.path])
        #expect(both.status != 0 && both.output.contains("domains.mail.test.delivery: 'imip' mails what it receives"), "\(both.output)")
    }
}
