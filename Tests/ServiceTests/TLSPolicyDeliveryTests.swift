import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// `tls-policy` against real parts: NSD publishing a plain `_ischedule._tcp` receiver, the
/// recording receiver on loopback http, aiosmtpd for the iMIP fallback.
@Suite("TLS policy", .waitsOnProcesses)
struct TLSPolicyDeliveryTests {
    @Test("verify (the default): a domain with only plain _ischedule._tcp gets iMIP, the reason in the answer, the queue, the log and status")
    func plaintextOnlyDomainGoesToIMIPUnderVerify() throws {
        let bed = try DeliveryBed(routes: [:], srvToReceiver: ["legacy.test"], tlsPolicy: "verify")
        defer { _ = bed.stop() }
        let (response, _) = try bed.invite(["mailto:bob@legacy.test"])
        let item = try #require(scheduleResponse(response)?.items.first)
        let reason = "plaintext iSchedule refused by tls-policy verify (legacy.test publishes only _ischedule._tcp, plain http)"
        #expect(item.requestStatus.code == "1.1", "\(response.text)")
        #expect(item.responseDescription?.contains(reason) == true, "\(response.text)")
        #expect(bed.wait(seconds: 15) { !bed.mails(to: "bob@legacy.test").isEmpty }, "\(bed.gateway.log)")
        #expect(bed.receiver.records.isEmpty, "nothing went over plain http")
        #expect(bed.gateway.log.contains("no iSchedule for legacy.test: \(reason)"), "\(bed.gateway.log)")
        let listed = try bed.queue(["list", "--state", "delivered"])
        let id = try #require(listed.output.split(separator: "\n").first { $0.contains("bob@legacy.test") }?.split(separator: "\t").first)
        let shown = try bed.queue(["show", String(id)])
        #expect(shown.output.contains(reason), "\(shown.output)")
        // status asks the running gateway on its intake listener: the same file with the port it got.
        let file = bed.directory.appendingPathComponent("status.yaml")
        try String(contentsOf: bed.directory.appendingPathComponent("gateway.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "http://127.0.0.1:0", with: "http://127.0.0.1:\(bed.port)").write(to: file, atomically: true, encoding: .utf8)
        let status = try GatewayBinary.run(["status", "--config", file.path], environment: ["GATEWAY_TEST_SMTP_PASSWORD": "secret"])
        #expect(status.output.contains("legacy.test") && status.output.contains(reason), "\(status.output)")
    }

    @Test("may: the same domain is delivered over plain http")
    func plaintextOnlyDomainIsDeliveredUnderMay() throws {
        let bed = try DeliveryBed(routes: [:], srvToReceiver: ["legacy.test"], tlsPolicy: "may")
        defer { _ = bed.stop() }
        let (response, _) = try bed.invite(["mailto:bob@legacy.test"])
        #expect(scheduleResponse(response)?.items.first?.requestStatus.code == "1.2", "\(response.text)")
        #expect(bed.receiver.records.first?.values("Recipient") == ["mailto:bob@legacy.test"])
        #expect(bed.mails(to: "bob@legacy.test").isEmpty)
    }
}
