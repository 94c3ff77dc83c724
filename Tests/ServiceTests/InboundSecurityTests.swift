import DKIM
import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Who may talk to the gateway: DKIM bound to the Originator's domain, replay cache, unsigned
/// peers only from the allow-list (checks 34-36), and the outbound intake (no open relay).
@Suite("Inbound security", .waitsOnProcesses)
struct InboundSecurityTests {
    @Test("check 34: d= must be the Originator's domain or a configured alias")
    func signingDomain() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let foreign = try bed.signedInvite(to: ["mailto:bob@beta.test"], signer: RemoteSigner(domain: "other.test"))
        let refused = try bed.post(foreign.headers, body: foreign.body)
        #expect(refused.status == 403)
        #expect(precondition(of: refused) == "verification-failed")
        #expect(refused.text.contains("d=other.test"))

        let aliased = try bed.signedInvite(to: ["mailto:bob@beta.test"], originator: "mailto:ann@alias.test")
        let accepted = try bed.post(aliased.headers, body: aliased.body)
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(bed.upstream.records.count == 1)
    }

    @Test("check 35: an identical replay is refused; a re-signed retry gets the first answer without a second delivery; both survive a restart")
    func replay() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let invite = try bed.signedInvite(to: ["mailto:bob@beta.test"], messageID: "replay-1")
        let first = try bed.post(invite.headers, body: invite.body)
        #expect(first.status == 200)
        let replayed = try bed.post(invite.headers, body: invite.body)
        #expect(replayed.status == 403)
        #expect(precondition(of: replayed) == "verification-failed")
        #expect(replayed.text.contains("replayed"))
        #expect(bed.upstream.records.count == 1)

        // The sender's retry: same message id, new signature (one second later).
        let body = invite.body
        let headers = try RemoteSigner(domain: "alpha.test").sign(
            [("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))],
            body: body, messageID: "replay-1", now: Int64(Date().timeIntervalSince1970) + 1)
        let retry = try bed.post(headers, body: body)
        #expect(retry.status == 200)
        #expect(retry.body == first.body)
        #expect(bed.upstream.records.count == 1)

        // The cache survives a restart: the replay is still refused, the retry still answered as before.
        #expect(try bed.restart() == 0)
        #expect(bed.gateway.log.contains("remembered from before the restart"))
        let afterRestart = try bed.post(invite.headers, body: invite.body)
        #expect(afterRestart.status == 403 && afterRestart.text.contains("replayed"))
        let laterRetry = try RemoteSigner(domain: "alpha.test").sign(
            [("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))],
            body: body, messageID: "replay-1", now: Int64(Date().timeIntervalSince1970) + 2)
        let answered = try bed.post(laterRetry, body: body)
        #expect(answered.status == 200 && answered.body == first.body)
        #expect(bed.upstream.records.count == 1)
    }

    @Test("check 36 and tampering: unsigned only from allow-listed peers, broken signatures refused")
    func unsignedAndTampered() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        func unsigned(_ domain: String, source: String) throws -> RawHTTPResponse {
            let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@\(domain)", attendees: ["mailto:bob@beta.test"])
            return try bed.post(
                [
                    ("Originator", "mailto:ann@\(domain)"), ("Recipient", "mailto:bob@beta.test"),
                    ("Content-Type", ITIP.contentType("REQUEST"))
                ], body: body, source: source)
        }
        let notListed = try unsigned("alpha.test", source: "127.0.0.1")
        #expect(notListed.status == 403)
        #expect(precondition(of: notListed) == "verification-failed")
        let wrongAddress = try unsigned("unsigned-no.test", source: "127.0.0.1")
        #expect(wrongAddress.status == 403)
        #expect(precondition(of: wrongAddress) == "verification-failed")
        #expect(bed.upstream.records.isEmpty)
        let listed = try unsigned("unsigned-no.test", source: "127.0.0.2")
        #expect(listed.status == 200)
        #expect(bed.upstream.records.count == 1)

        var invite = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        invite.body = Array(String(decoding: invite.body, as: UTF8.self).replacingOccurrences(of: "Planning", with: "Plannino").utf8)
        let tampered = try bed.post(invite.headers, body: invite.body)
        #expect(tampered.status == 403)
        #expect(precondition(of: tampered) == "verification-failed")
        #expect(bed.upstream.records.count == 1)
        let metrics = try RawHTTPConnection.exchange(
            port: bed.port, method: "GET", path: "/metrics",
            headers: [("X-ISchedule-Gateway-Secret", InboundBed.secret)]
        ).text
        #expect(metrics.contains("ischedule_verification_failures_total{reason=\"unsigned\"} 2"))
        #expect(metrics.contains("ischedule_verification_failures_total{reason=\"body_hash\"} 1"))
    }

    @Test("outbound intake: only the allow-listed address with the secret (no open relay)")
    func outboundIntake() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:carol@beta.test", attendees: ["mailto:bob@beta.test"])
        let headers: [(String, String)] = [
            ("Originator", "mailto:carol@beta.test"), ("Recipient", "mailto:bob@beta.test"),
            ("Content-Type", ITIP.contentType("REQUEST"))
        ]
        let secret = ("X-ISchedule-Gateway-Secret", InboundBed.secret)
        for (extra, source, reason) in [
            ([secret], "127.0.0.2", "not allow-listed"), ([], "127.0.0.1", "no secret"),
            ([("X-ISchedule-Gateway-Secret", "wrong")], "127.0.0.1", "wrong secret")
        ] {
            let response = try bed.post(headers + extra, body: body, path: "/outbound", source: source)
            #expect(response.status == 403, "\(reason)")
            #expect(precondition(of: response) == "originator-denied", "\(reason)")
        }
        #expect(bed.upstream.records.isEmpty)
        // A foreign Originator cannot use the intake either: we only sign for our domains.
        let foreignBody = ITIP.calendar(method: "REQUEST", organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"])
        let foreign = try bed.post(
            [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST")), secret
            ], body: foreignBody, path: "/outbound")
        #expect(foreign.status == 403)
        let accepted = try bed.post(headers + [secret], body: body, path: "/outbound")
        #expect(accepted.status == 200)
        #expect(scheduleResponse(accepted)?.items.map(\.requestStatus.code) == ["1.2"])
        #expect(bed.upstream.records.count == 1)
    }

    @Test("check 38: the published key record round-trips with the signing key")
    func publishedKey() async throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let response = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/domainkey/beta.test/gw")
        #expect(response.status == 200)
        #expect(response.values("Content-Type").first?.hasPrefix("text/plain") == true)
        let record = response.text.trimmingCharacters(in: .newlines)
        #expect(record.hasPrefix("v=DKIM1; k=rsa; s=ischedule; p="))
        let key = try RSAPrivateKey(pem: String(contentsOf: bed.gateway.directory.appendingPathComponent("keys/beta.pem"), encoding: .utf8))
        let signer = try DKIMSigner(privateKey: key, domain: "beta.test", selector: "gw", queryMethods: [.privateExchange])
        var message = HTTPRequestMessage(
            headers: [
                HeaderField(name: "Originator", value: "mailto:a@beta.test"),
                HeaderField(name: "Recipient", value: "mailto:b@x.test"),
                HeaderField(name: "Content-Type", value: "text/calendar")
            ], body: [65])
        let now = Int64(Date().timeIntervalSince1970)
        try signer.sign(&message, now: now)
        let verifier = DKIMVerifier(
            keys: KeyLocator(sources: [.privateExchange: FixedKeyRecords(records: [record])]),
            clock: FixedUnixClock(now))
        let verified = try await verifier.verify(message)
        #expect(verified.domain == "beta.test")
        #expect(try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/domainkey/beta.test/nope").status == 404)
    }
}
