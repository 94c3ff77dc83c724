import DKIM
import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Nobody can act as someone else: addresses read one way everywhere, replays of the legacy
/// dialect, recipients added to a signed request (issue "Nobody can act as someone else").
@Suite("Impersonation and replay", .serialized, .waitsOnProcesses)
struct ImpersonationTests {
    @Test("an Originator that is not a plain local@domain (comment, quoted local part, second @) is refused 400 on receipt, nothing forwarded")
    func originatorsReadOneWay() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        // other.test signs (its key is published); each Originator would read as other.test by its last @,
        // and as beta.test (ours) to mail software.
        for originator in [
            "mailto:ceo@beta.test(@other.test", "mailto:\"ceo@beta.test\"@other.test", "mailto:ceo@beta.test(x)@other.test",
            "mailto:@beta.test:ceo@other.test"
        ] {
            let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"], signer: RemoteSigner(domain: "other.test"), originator: originator)
            let refused = try bed.post(invite.headers, body: invite.body)
            #expect(refused.status == 400, "\(originator): \(refused.status) \(refused.text)")
            #expect(precondition(of: refused) == "originator-invalid", "\(originator): \(refused.text)")
        }
        #expect(bed.upstream.records.isEmpty)
    }

    @Test("a Recipient that is not a plain local@domain is refused 400 on receipt and at the intake; headers are written from the parsed address")
    func recipientsReadOneWay() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test(@alpha.test"])
        let refused = try bed.post(invite.headers, body: invite.body)
        #expect(refused.status == 400 && precondition(of: refused) == "invalid-scheduling-message", "\(refused.text)")
        #expect(bed.upstream.records.isEmpty)
        // A plain recipient, spelled MAILTO:Bob@BETA.test, reaches the upstream as mailto:Bob@beta.test.
        let spelled = try bed.signedInvite(to: ["MAILTO:Bob@BETA.test"])
        let accepted = try bed.post(spelled.headers, body: spelled.body)
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(bed.upstream.records.first?.values("Recipient") == ["mailto:Bob@beta.test"])
        // The outbound intake reads addresses the same way.
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:carol@beta.test", attendees: ["mailto:zed@remote.test(@beta.test"])
        let intake = try RawHTTPConnection.exchange(
            port: bed.port, path: "/outbound",
            headers: [
                ("Originator", "mailto:carol@beta.test"), ("Recipient", "mailto:zed@remote.test(@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST")), ("X-ISchedule-Gateway-Secret", InboundBed.secret)
            ], body: body)
        #expect(intake.status == 400 && precondition(of: intake) == "invalid-scheduling-message", "\(intake.text)")
    }

    /// Signs `headers` as an RFC 6376 signer would, with exactly `signedHeaders` in `h=` (the
    /// Apple test key, other.test's published key): old dialects and senders that sign less.
    static func sign(
        _ headers: [(String, String)], body: [UInt8], signedHeaders: [String], canonicalization: String,
        domain: String = "other.test"
    ) throws -> [(String, String)] {
        let key = try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
        let now = Int64(Date().timeIntervalSince1970)
        let bodyHash = BodyCanonicalizer.hash(body, .simple, using: .sha256).digest
        let unsigned =
            "v=1; d=\(domain); s=s1; t=\(now); x=\(now + 600); a=rsa-sha256; q=private-exchange; c=\(canonicalization); "
            + "h=\(signedHeaders.joined(separator: ":")); bh=\(Data(bodyHash).base64EncodedString()); b="
        let fields = headers.map { HeaderField(name: $0.0, value: $0.1) }
        let text = SigningInput.headerText(headers: fields, signature: try DKIMSignature(parsing: unsigned))
        return headers + [(DKIMSignature.fieldName, unsigned + Data(try key.signature(for: text, hash: .sha256)).base64EncodedString())]
    }

    @Test(
        "draft-01 (DAViCal): a captured request without iSchedule-Message-ID is refused when replayed, also with an unsigned iSchedule-Message-ID added"
    )
    func legacyReplayWithAddedMessageID() throws {
        let bed = try InboundBed(overrides: ["remote-domains": ["other.test": ["dialect": "draft-01"]]])
        defer { _ = bed.stop() }
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:dan@other.test", attendees: ["mailto:bob@beta.test"])
        let headers = try Self.sign(
            [
                ("Originator", "mailto:dan@other.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST")), ("iSchedule-Version", "1.0")
            ],
            body: body, signedHeaders: ["Originator", "Recipient", "Content-Type"], canonicalization: "relaxed/simple")
        #expect(try bed.post(headers, body: body).status == 200)
        #expect(try bed.post(headers, body: body).status == 403)
        for added in ["replay-a", "replay-b", "replay-c"] {
            let replay = try bed.post([("iSchedule-Message-ID", added)] + headers, body: body)
            #expect(replay.status == 403 && replay.text.contains("replayed"), "\(added): \(replay.status) \(replay.text)")
        }
        #expect(bed.upstream.records.count == 1, "delivered \(bed.upstream.records.count) times")
    }

    @Test("a Recipient header added above a signed request is not covered by h=: refused for every dialect (RFC 6376 §8.15)")
    func addedRecipientIsRefused() throws {
        let bed = try InboundBed(overrides: ["remote-domains": ["other.test": ["dialect": "draft-01"]]])
        defer { _ = bed.stop() }
        // RFC 6376 relaxed, signed for bob; carol's Recipient header put on top by whoever holds the request.
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:dan@other.test", attendees: ["mailto:bob@beta.test", "mailto:carol@beta.test"])
        let headers = try Self.sign(
            [
                ("Originator", "mailto:dan@other.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST")), ("iSchedule-Version", "1.0"), ("iSchedule-Message-ID", "add-1")
            ],
            body: body, signedHeaders: ["Originator", "Recipient", "Content-Type", "iSchedule-Version", "iSchedule-Message-ID"],
            canonicalization: "relaxed/simple")
        let added = try bed.post([("Recipient", "mailto:carol@beta.test")] + headers, body: body)
        #expect(added.status == 403 && precondition(of: added) == "verification-failed", "\(added.text)")
        #expect(added.text.contains("2 Recipient headers but h= covers 1"), "\(added.text)")
        // The draft-05 signer's request (ischedule-relaxed), with a Recipient added on top.
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        let tampered = try bed.post([("Recipient", "mailto:carol@beta.test")] + invite.headers, body: invite.body)
        #expect(tampered.status == 403 && precondition(of: tampered) == "verification-failed", "\(tampered.text)")
        #expect(bed.upstream.records.isEmpty)
        // Listed as often as it occurs, two Recipient headers are the sender's word.
        let both = try Self.sign(
            [
                ("Originator", "mailto:dan@other.test"), ("Recipient", "mailto:carol@beta.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST")), ("iSchedule-Version", "1.0"), ("iSchedule-Message-ID", "add-2")
            ],
            body: body,
            signedHeaders: [
                "Originator", "Recipient", "Recipient", "Content-Type", "iSchedule-Version",
                "iSchedule-Message-ID"
            ], canonicalization: "relaxed/simple")
        #expect(try bed.post(both, body: body).status == 200)
        #expect(bed.upstream.records.count == 1)
    }
}
