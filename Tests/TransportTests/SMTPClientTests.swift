import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// SMTP submission against a real server (aiosmtpd) with a CA the test generated.
@Suite(.serialized, .waitsOnProcesses) struct SMTPClientTests {
    static let certificates = Result { try TestCertificates() }
    static let message = Array(
        "From: <gateway@example.com>\r\nTo: <bob@example.org>\r\nSubject: Invitation\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".utf8)

    static func server(_ mode: TestSMTPServer.Mode) throws -> TestSMTPServer {
        let (cert, key) = try certificates.get().issue("localhost", subjectAltNames: ["DNS:localhost"])
        return try TestSMTPServer(mode: mode, cert: cert, key: key)
    }

    static func client(_ url: String, startTLS: SMTPConfiguration.StartTLS = .required, password: String? = "secret") throws -> SMTPClient {
        SMTPClient(
            configuration: SMTPConfiguration(
                url: url, startTLS: startTLS, username: password == nil ? nil : "gateway",
                password: password, caFile: try certificates.get().caFile,
                connectTimeoutMilliseconds: 3_000),
            thread: CurlThread())
    }

    @Test func startTLSAuthAndSeveralRecipients() async throws {
        let server = try Self.server(.starttls)
        defer { server.stop() }
        try await Self.client("smtp://localhost:\(server.port)").send(
            MailSubmission(sender: "gateway@example.com", recipients: ["bob@example.org", "carol@example.org"], message: Self.message))
        let messages = server.messages
        #expect(messages.count == 1)
        #expect(messages.first?["to"] as? [String] == ["bob@example.org", "carol@example.org"])
        #expect(messages.first?["from"] as? String == "gateway@example.com")
        #expect(messages.first?["tls"] as? Bool == true && messages.first?["authenticated"] as? Bool == true)
        #expect((messages.first?["data"] as? String)?.contains("Subject: Invitation") == true)
    }

    @Test func repliesCarryCodeAndText() async throws {
        let server = try Self.server(.starttls)
        defer { server.stop() }
        let client = try Self.client("smtp://localhost:\(server.port)")
        do {
            try await client.send(MailSubmission(sender: "gateway@example.com", recipients: ["nobody@reject.test"], message: Self.message))
            Issue.record("accepted a rejected recipient")
        } catch {
            guard case .rejected(550, let text) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(text.contains("mailbox unavailable") && !error.isTemporary)
        }
        do {
            try await client.send(MailSubmission(sender: "gateway@example.com", recipients: ["someone@later.test"], message: Self.message))
            Issue.record("accepted a deferred recipient")
        } catch {
            guard case .rejected(451, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(error.isTemporary)
        }
        await #expect {
            try await Self.client("smtp://localhost:\(server.port)", password: "wrong").send(
                MailSubmission(sender: "gateway@example.com", recipients: ["bob@example.org"], message: Self.message))
        } throws: { error in
            guard case .authenticationFailed(535, _) = error as? SMTPError else { return false }
            return true
        }
        #expect(server.messages.isEmpty)
    }

    @Test func requiredStartTLSIsEnforcedAndOptionalFallsBack() async throws {
        let plain = try Self.server(.plain)
        defer { plain.stop() }
        let submission = MailSubmission(sender: "gateway@example.com", recipients: ["bob@example.org"], message: Self.message)
        await #expect { try await Self.client("smtp://localhost:\(plain.port)", password: nil).send(submission) } throws: { error in
            guard case .tls = error as? SMTPError else { return false }
            return true
        }
        try await Self.client("smtp://localhost:\(plain.port)", startTLS: .optional, password: nil).send(submission)
        #expect(plain.messages.count == 1 && plain.messages.first?["tls"] as? Bool == false)
    }

    @Test func implicitTLS() async throws {
        let server = try Self.server(.smtps)
        defer { server.stop() }
        try await Self.client("smtps://localhost:\(server.port)").send(
            MailSubmission(sender: "gateway@example.com", recipients: ["bob@example.org"], message: Self.message))
        #expect(server.messages.first?["tls"] as? Bool == true)
    }

    @Test func badSubmissionsNameTheProblem() async throws {
        let client = try Self.client("smtp://localhost:25")
        await #expect(throws: SMTPError.invalidSubmission("no recipients")) {
            try await client.send(MailSubmission(sender: "a@b.c", recipients: [], message: []))
        }
        let why = "contains <, >, a control character, or a blank outside a quoted local part"
        await #expect(throws: SMTPError.invalidSubmission("address 'x>\r\nRCPT TO:<y@z' \(why)")) {
            try await client.send(MailSubmission(sender: "a@b.c", recipients: ["x>\r\nRCPT TO:<y@z"], message: []))
        }
        await #expect(throws: SMTPError.invalidSubmission("address 'john doe@z.test' \(why)")) {
            try await client.send(MailSubmission(sender: "a@b.c", recipients: ["john doe@z.test"], message: []))
        }
    }

    @Test("addresses fit for an SMTP command: a quoted local part may hold blanks; brackets and controls never")
    func commandSafeAddresses() {
        #expect(SMTPClient.isCommandSafe("\"john doe\"@z.test") && SMTPClient.isCommandSafe("a@b.c") && SMTPClient.isCommandSafe(""))
        #expect(!SMTPClient.isCommandSafe("\"john\" doe@z.test") && !SMTPClient.isCommandSafe("a@b.c>") && !SMTPClient.isCommandSafe("a\u{0}@b.c"))
    }
}
