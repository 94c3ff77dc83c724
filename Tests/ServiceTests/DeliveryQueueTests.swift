import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// The durable queue against real parts: a receiver that fails in chosen ways, NSD, aiosmtpd.
@Suite("Delivery queue", .waitsOnProcesses)
struct DeliveryQueueTests {
    @Test("a domain without SRV records gets a well-formed iMIP e-mail (answer 1.1)")
    func noISchedule() throws {
        let bed = try DeliveryBed(routes: [:])
        defer { _ = bed.stop() }
        let (response, body) = try bed.invite(["mailto:dave@plain.test"], summary: "Budget review")
        let item = try #require(scheduleResponse(response)?.items.first)
        #expect(item.requestStatus.code == "1.1", "\(response.text)")
        #expect(bed.wait(seconds: 15) { !bed.mails(to: "dave@plain.test").isEmpty }, "\(bed.gateway.log)")
        let mail = try #require(bed.mails(to: "dave@plain.test").first)
        #expect(mail["from"] as? String == "calendar-gateway@alpha.test")
        #expect(mail["tls"] as? Bool == true && mail["authenticated"] as? Bool == true)
        let parsed = try #require(mail["parsed"] as? [String: Any])
        #expect(parsed["top"] as? String == "multipart/alternative")
        #expect((parsed["defects"] as? [String])?.isEmpty == true)
        let headers = try #require(parsed["headers"] as? [String: String])
        #expect(headers["subject"] == "Invitation: Budget review")
        #expect(headers["reply-to"] == "alice@alpha.test")
        #expect(headers["to"] == "dave@plain.test")
        let parts = try #require(parsed["parts"] as? [[String: Any]])
        #expect(parts.map { $0["type"] as? String } == ["text/plain", "text/calendar"])
        let calendar = try #require(parts.last)
        #expect(calendar["method"] as? String == "REQUEST")
        #expect(calendar["charset"] as? String == "utf-8")
        #expect(Data(base64Encoded: calendar["payload"] as? String ?? "").map { Array($0) } == body)
        #expect(bed.receiver.records.isEmpty)
        #expect(bed.wait(seconds: 5) { (try? bed.queue(["list", "--state", "delivered"]))?.output.contains("dave@plain.test") == true })
    }

    @Test("a receiver published on a refused (loopback) address is never contacted: iMIP at once (1.1), no retries")
    func privateReceiverGoesToIMIP() throws {
        let bed = try DeliveryBed(routes: [:], srvToReceiver: ["inside.test"], allowPrivateAddresses: false)
        defer { _ = bed.stop() }
        let (response, _) = try bed.invite(["mailto:erin@inside.test"])
        let item = try #require(scheduleResponse(response)?.items.first)
        #expect(item.requestStatus.code == "1.1", "\(response.text)")
        #expect(
            item.responseDescription?.contains("refused to connect: localhost resolves only to refused addresses") == true,
            "\(response.text)")
        #expect(bed.wait(seconds: 15) { !bed.mails(to: "erin@inside.test").isEmpty }, "\(bed.gateway.log)")
        #expect(bed.receiver.records.isEmpty)
        #expect(bed.wait(seconds: 5) { (try? bed.queue(["list", "--state", "delivered"]))?.output.contains("erin@inside.test") == true })
    }

    @Test("a receiver that fails 3 times and then succeeds is delivered once, with the same iSchedule-Message-ID")
    func retriesThenDelivers() throws {
        let bed = try DeliveryBed(routes: ["flaky.test": "/flaky/3/ischedule"])
        defer { _ = bed.stop() }
        let (response, _) = try bed.invite(["mailto:x@flaky.test"])
        #expect(scheduleResponse(response)?.items.first?.requestStatus.code == "1.0", "\(response.text)")
        #expect(bed.wait(seconds: 20) { bed.receiver.records.count >= 4 }, "\(bed.gateway.log)")
        usleep(1_500_000)  // nothing further may arrive once delivered
        let posts = bed.receiver.records
        #expect(posts.count == 4)
        #expect(Set(posts.flatMap { $0.values("iSchedule-Message-ID") }).count == 1)
        #expect(Set(posts.flatMap { $0.values("DKIM-Signature") }).count == 4, "each attempt is signed afresh")
        #expect(bed.mails(to: "x@flaky.test").isEmpty)
        let listed = try bed.queue(["list", "--state", "delivered"])
        #expect(listed.status == 0 && listed.output.contains("x@flaky.test"), "\(listed.output)")
    }

    @Test("a receiver that never recovers ends in iMIP after max-attempts")
    func exhaustedGoesToIMIP() throws {
        let bed = try DeliveryBed(routes: ["dead.test": "/status/503"])
        defer { _ = bed.stop() }
        let (response, body) = try bed.invite(["mailto:y@dead.test"])
        #expect(scheduleResponse(response)?.items.first?.requestStatus.code == "1.0")
        #expect(bed.wait(seconds: 25) { !bed.mails(to: "y@dead.test").isEmpty }, "\(bed.gateway.log)")
        #expect(bed.receiver.records.count == 6)
        #expect(Set(bed.receiver.records.flatMap { $0.values("iSchedule-Message-ID") }).count == 1)
        let parts = (bed.mails(to: "y@dead.test").first?["parsed"] as? [String: Any])?["parts"] as? [[String: Any]]
        #expect(Data(base64Encoded: parts?.last?["payload"] as? String ?? "").map { Array($0) } == body)
        let handedOff = try bed.queue(["list", "--state", "handed-off"])
        #expect(handedOff.output.contains("y@dead.test"), "\(handedOff.output)")
    }

    @Test(
        "a receiver slower than remote-request gets the message once: the local server hears 1.0 in time, the attempt goes on and ends delivered, no retry overlaps it"
    )
    func slowReceiverGetsItOnce() throws {
        let bed = try DeliveryBed(routes: ["slow.test": "/ischedule"], timeouts: ["remote-request": "1s"])
        defer { _ = bed.stop() }
        let started = Date()
        let (response, _) = try bed.invite(["mailto:slow-1@slow.test", "mailto:quick@slow.test"])
        let answered = Date().timeIntervalSince(started)
        let items = scheduleResponse(response)?.items ?? []
        // The receiver holds both (one POST: max-recipients 2) for 3 s: both are pending, answered after about 1 s.
        #expect(items.map(\.requestStatus.code) == ["1.0", "1.0"], "\(response.text)")
        #expect(answered < 2.5, "answered after \(answered) s")
        #expect(items.first?.responseDescription?.contains("the attempt goes on") == true, "\(response.text)")
        #expect(
            bed.wait(seconds: 15) { (try? bed.queue(["list", "--state", "delivered"]))?.output.contains("slow-1@slow.test") == true },
            "\(bed.gateway.log)")
        usleep(3_000_000)  // a retry would have come by now (retry-initial 1 s)
        #expect(bed.receiver.records.count == 1, "\(bed.receiver.records.map(\.path))")
        let pending = try bed.queue(["list", "--state", "pending"])
        #expect(!pending.output.contains("slow.test"), "\(pending.output)")
    }

    @Test("a dead domain does not delay delivery to a healthy one")
    func deadDomainDoesNotStarveOthers() throws {
        let bed = try DeliveryBed(
            routes: ["stalled.test": "/hang/ischedule", "healthy.test": "/flaky/1/ischedule"],
            delivery: [
                "concurrency": "4", "per-domain-concurrency": "2", "circuit-failures": "3",
                "circuit-cooldown": "30s", "max-attempts": "50"
            ],
            timeouts: ["remote-request": "2s"])
        defer { _ = bed.stop() }
        // Twelve messages to the stalled domain: each live attempt times out after 2 s, then queues.
        let group = DispatchGroup()
        for index in 0..<12 {
            group.enter()
            Thread.detachNewThread {
                _ = try? bed.invite(["mailto:s\(index)@stalled.test"])
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        // The worker now retries the stalled domain; a healthy message that needs one retry must
        // still go through at its retry time, not behind the stalled domain's 2 s timeouts.
        let started = Date()
        let (response, _) = try bed.invite(["mailto:h@healthy.test"])
        #expect(scheduleResponse(response)?.items.first?.requestStatus.code == "1.0")
        let delivered = bed.wait(seconds: 15) { bed.receiver.records.filter { $0.path == "/flaky/1/ischedule" }.count >= 2 }
        let elapsed = Date().timeIntervalSince(started)
        #expect(delivered)
        // Its retry is due after 0.8-1.2 s; it must not wait for the stalled domain's timeouts.
        #expect(elapsed < 3, "healthy delivery took \(elapsed) s")
        let pending = try bed.queue(["list", "--state", "pending"])
        #expect(pending.output.contains("stalled.test"), "\(pending.output)")
        // With the domain's circuit open, a new message for it is queued at once instead of
        // holding the local server through a 2 s timeout.
        let quick = Date()
        let (late, _) = try bed.invite(["mailto:late@stalled.test"])
        #expect(Date().timeIntervalSince(quick) < 1)
        #expect(scheduleResponse(late)?.items.first?.requestStatus.code == "1.0")
        #expect(scheduleResponse(late)?.items.first?.responseDescription?.contains("circuit open") == true, "\(late.text)")
    }

    @Test("queue show, drop and retry")
    func queueCommands() throws {
        let bed = try DeliveryBed(
            routes: ["dead.test": "/status/503"], delivery: ["max-attempts": "1000", "retry-initial": "30s", "retry-maximum": "60s"])
        defer { _ = bed.stop() }
        _ = try bed.invite(["mailto:q@dead.test"])
        let listed = try bed.queue(["list", "--state", "pending"])
        let line = try #require(listed.output.split(separator: "\n").first { $0.contains("q@dead.test") })
        let id = String(line.split(separator: "\t")[0])
        let shown = try bed.queue(["show", id])
        #expect(shown.status == 0)
        #expect(shown.output.contains("state: pending") && shown.output.contains("attempts: 1") && shown.output.contains("BEGIN:VCALENDAR"))
        #expect(shown.output.contains("HTTP 503"), "\(shown.output)")
        let dropped = try bed.queue(["drop", id])
        #expect(dropped.status == 0)
        #expect(try bed.queue(["show", id]).output.contains("state: dropped"))
        #expect(try bed.queue(["drop", id]).status != 0)
        let before = bed.receiver.records.count
        #expect(try bed.queue(["retry", id]).status == 0)
        #expect(bed.wait(seconds: 5) { bed.receiver.records.count > before })
        #expect(try bed.queue(["show", "999999"]).status != 0)
        #expect(try bed.queue(["list", "--state", "bogus"]).output.contains("--state bogus"))
        // Queue gauges are refreshed every 5 s.
        var metrics = ""
        #expect(
            bed.wait(seconds: 8) {
                metrics = (try? RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/metrics").text) ?? ""
                return metrics.contains("ischedule_queue_depth{state=\"pending\"} 1")
            }, "\(metrics)")
        #expect(metrics.contains("ischedule_queue_attempts_total{kind=\"ischedule\",outcome=\"pending\"}"))
    }
}
