import DKIM
import Foundation
import ISchedule
import TestSupport
import Testing

/// Nobody can act as someone else: addresses read one way everywhere, replays of the legacy
/// dialect, recipients added to a signed request (issue "Nobody can act as someone else").
@Suite("Impersonation and replay", .serialized)
struct ImpersonationTests {
    @Test("an Originator that is not a plain local@domain (comment, quoted local part, second @) is refused 400 on receipt, nothing forwarded")
    func originatorsReadOneWay() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        // other.test signs (its key is published); each Originator would read as other.test by its last @,
        // and as beta.test (ours) to mail software.
        for originator in ["mailto:ceo@beta.test(@other.test", "mailto:\"ceo@beta.test\"@other.test", "mailto:ceo@beta.test(x)@other.test",
                           "mailto:@beta.test:ceo@other.test"] {
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
            headers: [("Originator", "mailto:carol@beta.test"), ("Recipient", "mailto:zed@remote.test(@beta.test"),
                      ("Content-Type", ITIP.contentType("REQUEST")), ("X-ISchedule-Gateway-Secret", InboundBed.secret)], body: body)
        #expect(intake.status == 400 && precondition(of: intake) == "invalid-scheduling-message", "\(intake.text)")
    }
}
