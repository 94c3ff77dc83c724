import DKIM
import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// What an outsider with a DNS domain of their own can try against the receiver (CI runs these
/// against the release binary too).
@Suite("Inbound under abuse", .waitsOnProcesses)
struct InboundAbuseTests {
    static func headers(_ originator: String, _ recipients: [String]) -> [(String, String)] {
        [("Originator", originator), ("Recipient", recipients.joined(separator: ",")), ("Content-Type", ITIP.contentType("REQUEST"))]
    }

    @Test("a request the cache forgot (its domain over the quota) is still refused as a replay: the ledger keeps it until x=")
    func replayOfAForgottenRequest() throws {
        let bed = try InboundBed(limits: ["replay-cache-entries": "100", "replay-entries-per-domain": "10"])
        defer { _ = bed.stop() }
        // The soonest-expiring entry (x= in 10 minutes, the others in an hour) is the first the quota evicts.
        let first = try bed.signedInvite(
            to: ["mailto:bob@beta.test"], signer: RemoteSigner(domain: "alpha.test", lifetime: 600),
            messageID: "forgotten-0")
        #expect(try bed.post(first.headers, body: first.body).status == 200)
        for index in 1..<15 {
            let next = try bed.signedInvite(to: ["mailto:bob@beta.test"], messageID: "forgotten-\(index)")
            #expect(try bed.post(next.headers, body: next.body).status == 200)
        }
        let replayed = try bed.post(first.headers, body: first.body)
        #expect(replayed.status == 403 && replayed.text.contains("replayed"), "\(replayed.text)")
        #expect(bed.upstream.records.count == 15, "each request forwarded once, the replay never")
        // A re-signed retry of it (same id, new signature) gets the first answer, not a second delivery.
        let retry = try RemoteSigner(domain: "alpha.test").sign(
            [("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))],
            body: first.body, messageID: "forgotten-0", now: Int64(Date().timeIntervalSince1970) + 1)
        let answered = try bed.post(retry, body: first.body)
        #expect(answered.status == 200, "\(answered.text)")
        #expect(bed.upstream.records.count == 15)
    }

    @Test(
        "a stranger cannot fill the replay cache: nothing is kept for unhosted recipients, a domain over its quota evicts only itself, also after a restart"
    )
    func replayCacheFlood() throws {
        let bed = try InboundBed(limits: ["replay-cache-entries": "100", "replay-entries-per-domain": "10"])
        defer { _ = bed.stop() }
        let partner = try bed.signedInvite(to: ["mailto:bob@beta.test"], messageID: "partner-1")
        #expect(try bed.post(partner.headers, body: partner.body).status == 200)
        let stranger = try RemoteSigner(domain: "other.test")
        for index in 0..<120 {
            // Relaying attempts: answered 3.7, never remembered.
            let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:eve@other.test", attendees: ["mailto:x@elsewhere.test"])
            let headers = try stranger.sign(
                Self.headers("mailto:eve@other.test", ["mailto:x@elsewhere.test"]), body: body,
                messageID: "relay-\(index)")
            let answer = try bed.post(headers, body: body)
            #expect(answer.status == 200 && scheduleResponse(answer)?.items.first?.requestStatus.code == "3.7", "\(answer.text)")
        }
        for index in 0..<30 {
            let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:eve@other.test", attendees: ["mailto:bob@beta.test"])
            let headers = try stranger.sign(Self.headers("mailto:eve@other.test", ["mailto:bob@beta.test"]), body: body, messageID: "flood-\(index)")
            #expect(try bed.post(headers, body: body).status == 200)
        }
        // A signature that claims to live for years is refused outright.
        let forever = try RemoteSigner(domain: "other.test", lifetime: 999_999_999)
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:eve@other.test", attendees: ["mailto:bob@beta.test"])
        let long = try bed.post(try forever.sign(Self.headers("mailto:eve@other.test", ["mailto:bob@beta.test"]), body: body), body: body)
        #expect(long.status == 403 && long.text.contains("signatures may live at most that long"), "\(long.text)")
        for round in 0..<2 {
            let next = try bed.signedInvite(to: ["mailto:bob@beta.test"], messageID: "partner-next-\(round)")
            #expect(try bed.post(next.headers, body: next.body).status == 200, "round \(round)")
            // The partner's own entry survived the stranger's flood.
            let replay = try bed.post(partner.headers, body: partner.body)
            #expect(replay.status == 403 && replay.text.contains("replayed"), "round \(round): \(replay.text)")
            if round == 0 { #expect(try bed.restart() == 0) }
        }
    }

    @Test("the intake is served only on listeners marked for it, and on a Unix-domain socket")
    func intakeOnlyWhereMarked() throws {
        let upstream = try TestCalendarServer()
        defer { upstream.stop() }
        // Fixed ports: the listeners start in any order.
        let (intakePort, receiverPort) = (freeLoopbackPort(), freeLoopbackPort())
        let directory = GatewayProcess.temporaryDirectory("intake")
        let socket = directory.appendingPathComponent("intake.sock").path
        let gateway = try GatewayProcess(
            configuration: """
                listeners:
                  - url: http://127.0.0.1:\(intakePort)
                  - url: http://127.0.0.1:\(receiverPort)
                    intake: false
                  - url: unix:intake.sock
                domains:
                  beta.test:
                    dkim-keys:
                      - selector: gw
                        private-key: beta.pem
                        create-if-missing: true
                    upstream: \(upstream.url())
                outbound:
                  allow-from: [192.0.2.1]
                """, directory: directory, listeners: 3)
        defer { gateway.stop() }
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:carl@beta.test", attendees: ["mailto:bob@beta.test"])
        let headers = Self.headers("mailto:carl@beta.test", ["mailto:bob@beta.test"])
        // 127.0.0.1 is not in this allow-list: the TCP intake refuses; the socket's file mode decides instead.
        let served = try RawHTTPConnection.exchange(port: intakePort, path: "/outbound", headers: headers, body: body)
        let closed = try RawHTTPConnection.exchange(port: receiverPort, path: "/outbound", headers: headers, body: body)
        let local = try RawHTTPConnection.exchange(unixSocket: socket, path: "/outbound", headers: headers, body: body)
        #expect(served.status == 403 && precondition(of: served) == "originator-denied", "\(served.text)")
        #expect(closed.status == 404 && local.status == 200, "\(closed.status) \(local.status) \(local.text)")
        #expect(scheduleResponse(local)?.items.first?.requestStatus.code == "1.2")
        let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
        #expect(mode == 0o660)
        #expect(upstream.records.count == 1)
    }

    @Test("a whitespace-changed copy is a replay; the same id for other recipients is refused")
    func replayVariants() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"], messageID: "variant-1")
        #expect(try bed.post(invite.headers, body: invite.body).status == 200)
        let widened = invite.headers.map { $0.0 == "DKIM-Signature" ? ($0.0, $0.1.replacingOccurrences(of: "; b=", with: ";  b=")) : $0 }
        let copy = try bed.post(widened, body: invite.body)
        #expect(copy.status == 403 && copy.text.contains("replayed"), "\(copy.text)")
        let other = try bed.signedInvite(to: ["mailto:bob@beta.test", "mailto:carol@beta.test"], messageID: "variant-1")
        let reused = try bed.post(other.headers, body: other.body)
        #expect(reused.status == 403 && reused.text.contains("already used for other recipients"), "\(reused.text)")
        #expect(bed.upstream.records.count == 1)
    }

    @Test("rsa-sha1, a key in testing mode and an Originator with a query are refused")
    func protocolEdges() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let sha1 = try bed.signedInvite(to: ["mailto:bob@beta.test"], signer: RemoteSigner(domain: "alpha.test", algorithm: .rsaSHA1))
        let refused = try bed.post(sha1.headers, body: sha1.body)
        #expect(refused.status == 403 && refused.text.contains("a=rsa-sha1 is not accepted"), "\(refused.text)")
        let testing = try bed.signedInvite(
            to: ["mailto:bob@beta.test"], signer: RemoteSigner(domain: "testing.test"),
            originator: "mailto:tess@testing.test")
        let unsigned = try bed.post(testing.headers, body: testing.body)
        #expect(unsigned.status == 403 && unsigned.text.contains("testing mode"), "\(unsigned.text)")
        let sneaky = try bed.signedInvite(to: ["mailto:bob@beta.test"], originator: "mailto:ann@alpha.test?x=@beta.test")
        let denied = try bed.post(sneaky.headers, body: sneaky.body)
        #expect(denied.status == 400 && precondition(of: denied) == "originator-invalid", "\(denied.text)")
        #expect(bed.upstream.records.isEmpty)
    }

    @Test("attendees and recipients are capped; an unsigned stranger's huge body is refused before it is parsed")
    func expensiveBodies() throws {
        let bed = try InboundBed(limits: ["max-content-length": "4194304", "max-attendees": "1000", "max-recipients": "20"])
        defer { _ = bed.stop() }
        let crowd = (0..<1_500).map { "mailto:guest\($0)@beta.test" }
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: crowd)
        let signed = try RemoteSigner(domain: "alpha.test").sign(
            Self.headers("mailto:alice@alpha.test", ["mailto:bob@beta.test"]),
            body: body, messageID: "crowd")
        let capped = try bed.post(signed, body: body)
        #expect(capped.status == 400 && capped.text.contains("more than 1000 ATTENDEEs"), "\(capped.text)")
        let recipients = (0..<21).map { "mailto:r\($0)@beta.test" }
        let wide = try bed.signedInvite(to: recipients)
        let tooWide = try bed.post(wide.headers, body: wide.body)
        #expect(precondition(of: tooWide) == "max-recipients", "\(tooWide.text)")
        // 40,000 distinct attendees, unsigned, from a peer nobody allowed: refused on its headers.
        let huge = ITIP.calendar(method: "REQUEST", organizer: "mailto:eve@other.test", attendees: (0..<40_000).map { "mailto:a\($0)@x.test" })
        let stranger = try bed.post(Self.headers("mailto:eve@other.test", ["mailto:bob@beta.test"]) + [("iSchedule-Version", "1.0")], body: huge)
        #expect(huge.count > 2_000_000)
        #expect(stranger.status == 403 && stranger.text.contains("no DKIM-Signature"), "\(stranger.text)")
        #expect(bed.upstream.records.isEmpty)
    }
}
