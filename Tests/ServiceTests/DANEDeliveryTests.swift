import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// `tls-policy: dane` and `dane-only` against real parts: NSD serving zones signed by
/// ldns-signzone, unbound validating them (`dns.dnssec: validate`), receivers on loopback https,
/// aiosmtpd for the iMIP fallback.
///
/// - good.test (signed): SRV and `3 1 1` TLSA for a self-signed receiver certificate.
/// - wrong.test (signed): the same receiver, a TLSA record for another key.
/// - bogus.test (signed, its record signatures broken): the same receiver, the right TLSA.
/// - insecure.test (unsigned): a receiver whose certificate the test CA issued, and a TLSA record
///   for another key, which must count for nothing.
/// - down.test (signed): the right TLSA record for a port nothing listens on.
/// - mixed.test (signed): first an SRV target in bogus.test (its TLSA lookup fails), then one of
///   its own with the right TLSA record.
@Suite("DANE delivery", .serialized, .waitsOnProcesses)
struct DANEDeliveryTests {
    final class World: @unchecked Sendable {
        let dane: TestCalendarServer
        let pkix: TestCalendarServer
        let dns: TestValidatingDNS
        let bed: DeliveryBed

        init(policy: String, domains: [String: String] = [:], delivery: [String: String] = [:]) throws {
            let certificates = try TestCertificates()
            let selfSigned = try certificates.selfSigned("rx.good.test", subjectAltNames: ["DNS:rx.good.test"])
            let (other, _) = try certificates.selfSigned("other.test", subjectAltNames: ["DNS:other.test"])
            dane = try TestCalendarServer(tls: selfSigned)
            pkix = try TestCalendarServer(tls: try certificates.issue("rx.insecure.test", subjectAltNames: ["DNS:rx.insecure.test"]))
            let right = try TestCertificates.tlsaData(selfSigned.cert)
            let wrong = try TestCertificates.tlsaData(other)
            func zone(_ name: String, port: UInt16, tlsa: String) -> String {
                zoneHead(name) + """
                    _ischedules._tcp IN SRV 0 0 \(port) rx.\(name).
                    rx IN A 127.0.0.1
                    _\(port)._tcp.rx IN TLSA 3 1 1 \(tlsa)
                    """
            }
            let closed = freeLoopbackPort()
            let mixed =
                zone("mixed.test", port: dane.port, tlsa: right)
                .replacingOccurrences(
                    of: "_ischedules._tcp IN SRV 0 0", with: "_ischedules._tcp IN SRV 0 0 \(dane.port) rx.bogus.test.\n_ischedules._tcp IN SRV 10 0")
            dns = try TestValidatingDNS(zones: [
                "down.test": .init(zone("down.test", port: closed, tlsa: right), .signed),
                "mixed.test": .init(mixed, .signed),
                "good.test": .init(zone("good.test", port: dane.port, tlsa: right), .signed),
                "wrong.test": .init(zone("wrong.test", port: dane.port, tlsa: wrong), .signed),
                "bogus.test": .init(zone("bogus.test", port: dane.port, tlsa: right), .bogus),
                "insecure.test": .init(zone("insecure.test", port: pkix.port, tlsa: wrong), .unsigned)
            ])
            var overrides: GatewayYAML.Value = ["dns": ["dnssec": "validate"]]
            for (domain, policy) in domains { overrides = overrides.merging(["remote-domains": .map(domain, ["tls-policy": .scalar(policy)])]) }
            bed = try DeliveryBed(
                routes: [:], delivery: delivery, tlsPolicy: policy, dnsServer: dns.server, overrides: overrides, certificates: certificates)
        }

        func answer(_ recipient: String) throws -> ScheduleResponse.Item {
            let (response, _) = try bed.invite([recipient])
            return try #require(scheduleResponse(response)?.items.first, "\(response.text)")
        }

        func posts(for domain: String, at receiver: TestCalendarServer) -> Int {
            receiver.records.filter { $0.values("Recipient").joined().hasSuffix("@\(domain)") }.count
        }

        /// The queue record of `recipient` (its `queue show` text), or "".
        func queued(_ recipient: String) throws -> String {
            let listed = try bed.queue(["list"])
            guard let id = listed.output.split(separator: "\n").first(where: { $0.contains(recipient) })?.split(separator: "\t").first else {
                return ""
            }
            return try bed.queue(["show", String(id)]).output
        }

        func stop() {
            _ = bed.stop()
            dns.stop()
            dane.stop()
            pkix.stop()
        }
    }

    @Test("dane: a validated TLSA record that matches delivers to a self-signed receiver; one that does not refuses and queues")
    func daneMatchesAndRefuses() throws {
        let world = try World(policy: "dane")
        defer { world.stop() }
        let good = try world.answer("mailto:bob@good.test")
        #expect(good.requestStatus.code == "1.2", "\(good) \(world.bed.gateway.log)")
        #expect(world.posts(for: "good.test", at: world.dane) == 1)
        // A receiver whose TLSA lookup fails (bogus) is skipped; the next one, DANE-verified, takes it.
        let mixed = try world.answer("mailto:max@mixed.test")
        #expect(mixed.requestStatus.code == "1.2", "\(mixed) \(world.bed.gateway.log)")

        let wrong = try world.answer("mailto:carol@wrong.test")
        #expect(!wrong.requestStatus.isSuccess && wrong.requestStatus.code != "1.1", "\(wrong)")
        #expect(wrong.responseDescription?.contains("DANE failure") == true, "\(wrong)")
        #expect(world.posts(for: "wrong.test", at: world.dane) == 0, "nothing reached a receiver DANE refused")
        let record = try world.queued("carol@wrong.test")
        #expect(record.contains("pending") && record.contains("matches none of its 1 TLSA record"), "\(record)")
    }

    @Test("dane: a bogus zone, or a DANE receiver that is down, is a temporary failure with no iMIP, even when retries run out")
    func bogusZoneAndDownReceiverAreHeld() throws {
        let world = try World(policy: "dane")
        defer { world.stop() }
        let answer = try world.answer("mailto:dave@bogus.test")
        #expect(answer.requestStatus.code != "1.1" && !answer.requestStatus.isSuccess, "\(answer)")
        #expect(answer.responseDescription?.contains("DNSSEC validation failed (bogus, extended DNS error") == true, "\(answer)")
        // An attacker on the path chooses the failure (here: nothing listens): a domain that
        // publishes TLSA is never mailed instead.
        let down = try world.answer("mailto:fred@down.test")
        #expect(!down.requestStatus.isSuccess && down.requestStatus.code != "1.1", "\(down)")
        // The bed retries after 1-2 s, six attempts: long enough for the queue to give up.
        for recipient in ["dave@bogus.test", "fred@down.test"] {
            let gaveUp = world.bed.wait(seconds: 30) { ((try? world.queued(recipient)) ?? "").contains("failed") }
            #expect(gaveUp, "\((try? world.queued(recipient)) ?? "")")
            #expect(world.bed.mails(to: recipient).isEmpty, "\(recipient) is never mailed instead")
        }
        #expect(world.posts(for: "bogus.test", at: world.dane) == 0)
    }

    @Test("dane with max-attempts 1: a mismatch on the live attempt fails at once, never mailed")
    func liveAttemptKeepsTheHold() throws {
        let world = try World(policy: "dane", delivery: ["max-attempts": "1"])
        defer { world.stop() }
        let wrong = try world.answer("mailto:carol@wrong.test")
        #expect(!wrong.requestStatus.isSuccess && wrong.requestStatus.code != "1.1", "\(wrong)")
        // The answer is final (no retry is left): nothing is queued for her, no iMIP is sent.
        #expect(wrong.responseDescription?.contains("DANE failure") == true, "\(wrong)")
        Thread.sleep(forTimeInterval: 3)
        let listed = try world.bed.queue(["list"]).output
        #expect(!listed.contains("carol@wrong.test"), "\(listed)")
        #expect(world.bed.mails(to: "carol@wrong.test").isEmpty)
    }

    @Test("dane on an insecure zone is verify: a receiver the CA vouches for delivers, its unvalidated TLSA ignored")
    func insecureZoneFallsBackToVerify() throws {
        let world = try World(policy: "dane")
        defer { world.stop() }
        let answer = try world.answer("mailto:erin@insecure.test")
        #expect(answer.requestStatus.code == "1.2", "\(answer) \(world.bed.gateway.log)")
        #expect(world.posts(for: "insecure.test", at: world.pkix) == 1)
    }

    @Test("dane-only: an insecure zone goes to iMIP with the reason; a secure one still delivers; bogus is bogus under verify too")
    func daneOnlyMailsInsecureDomains() throws {
        let world = try World(policy: "verify", domains: ["insecure.test": "dane-only", "good.test": "dane-only"])
        defer { world.stop() }
        let insecure = try world.answer("mailto:erin@insecure.test")
        #expect(insecure.requestStatus.code == "1.1", "\(insecure)")
        let reason = "no DNSSEC-validated TLSA, which tls-policy dane-only requires (the SRV answer for insecure.test is not DNSSEC-validated)"
        #expect(insecure.responseDescription?.contains(reason) == true, "\(insecure)")
        #expect(world.bed.wait(seconds: 15) { !world.bed.mails(to: "erin@insecure.test").isEmpty })
        #expect(world.posts(for: "insecure.test", at: world.pkix) == 0)
        let good = try world.answer("mailto:bob@good.test")
        #expect(good.requestStatus.code == "1.2", "\(good)")
        // bogus.test is under verify here: the validator's extended DNS error still says bogus.
        let bogus = try world.answer("mailto:dave@bogus.test")
        #expect(bogus.responseDescription?.contains("DNSSEC validation failed (bogus") == true, "\(bogus)")
    }
}
