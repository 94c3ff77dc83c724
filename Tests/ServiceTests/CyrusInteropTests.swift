import Foundation
import TestSupport
import TestTraits
import Testing

/// The gateway in front of a real Cyrus IMAP 3.6 (Debian's cyrus-caldav), which receives
/// iSchedule but checks no DKIM: the gateway verifies, Cyrus stores. Verified in Cyrus's own
/// store (the user's scheduling Inbox over CalDAV), not by an HTTP 200.
@Suite("Cyrus IMAP behind the gateway", .serialized, .waitsOnProcesses)
struct CyrusInteropTests {
    @Test("a signed invitation from a remote domain lands in the Cyrus user's Inbox; one changed after signing is refused and never reaches Cyrus")
    func verifiedInvitationReachesCyrus() throws {
        let cyrus = try TestCyrus(domain: "beta.test", users: ["bob"])
        defer { cyrus.stop() }
        let bed = try InboundBed(upstream: cyrus.baseURL + "/ischedule")
        defer { _ = bed.stop() }
        #expect(try cyrus.inbox(of: "bob").isEmpty)

        let (headers, body) = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        let response = try bed.post(headers, body: body)
        #expect(scheduleResponse(response)?.items.map(\.requestStatus.code) == ["2.0"], "\(response.text)")
        let uid = try #require(String(decoding: body, as: UTF8.self).split(separator: "\r\n").first { $0.hasPrefix("UID:") })
        let stored = try cyrus.inbox(of: "bob")
        #expect(stored.count == 1 && stored.first?.contains(uid) == true, "\(stored)")
        #expect(stored.first?.contains("ORGANIZER:mailto:alice@alpha.test") == true)

        // The same request with one byte of the calendar changed after signing.
        let (tamperedHeaders, signedBody) = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        let tampered = Array(String(decoding: signedBody, as: UTF8.self).replacingOccurrences(of: "SUMMARY:", with: "SUMMARY:X").utf8)
        let refused = try bed.post(tamperedHeaders, body: tampered)
        #expect(refused.status == 403 && refused.text.contains("verification-failed"), "\(refused.text)")
        #expect(try cyrus.inbox(of: "bob").count == 1)
    }
}
