import DKIM
import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Two gateway processes, alpha.test and beta.test, each in front of a recording calendar server,
/// exchanging iSchedule over TLS, finding each other through a real DNS server (NSD: SRV and
/// TXT keys). Gateway alpha also knows static receivers (a third recording server) that
/// redirect, fail, stall or leave recipients out.
@Suite("Two gateways end to end", .waitsOnProcesses)
struct TwoGatewayTests {
    final class World: @unchecked Sendable {
        let alphaUpstream, betaUpstream, receiver: TestCalendarServer
        let dns: TestDNSServer
        let alpha, beta: GatewayProcess
        let alphaKey: RSAPrivateKey

        init() throws {
            alphaUpstream = try TestCalendarServer()
            betaUpstream = try TestCalendarServer()
            receiver = try TestCalendarServer()
            let certificates = try TestCertificates()
            let tls = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
            alphaKey = try RSAPrivateKey.generate(bits: 2048)
            let betaKey = try RSAPrivateKey.generate(bits: 2048)
            let (alphaPort, betaPort) = (freeLoopbackPort(), freeLoopbackPort())
            func zone(_ name: String, port: UInt16?, key: RSAPrivateKey?) -> String {
                var text = "@ IN SOA ns.\(name). hostmaster.\(name). 1 3600 600 86400 60\n@ IN NS ns.\(name).\nns IN A 127.0.0.1\n"
                if let port { text += "_ischedules._tcp IN SRV 0 1 \(port) localhost.\n" }
                if let key { text += "gw._domainkey IN TXT \(zoneTXT(KeyRecord.text(for: key.publicKey)))\n" }
                return text
            }
            dns = try TestDNSServer(zones: [
                "alpha.test": zone("alpha.test", port: alphaPort, key: alphaKey),
                "beta.test": zone("beta.test", port: betaPort, key: betaKey),
                "gamma.test": zone("gamma.test", port: nil, key: nil)
            ])
            let closedPort = freeLoopbackPort()
            let statics = [
                "recorder": "/ischedule", "moved301": "/p301/ischedule", "found302": "/p302/ischedule",
                "temp307": "/p307/ischedule", "perm308": "/p308/ischedule", "loop": "/p307/p307/p307/p307/ischedule",
                "broken": "/status/500", "partial": "/partial", "slow": "/ischedule"
            ]
            var remotes = GatewayYAML.Value.map([])
            for (name, path) in statics.sorted(by: { $0.key < $1.key }) {
                remotes = remotes.merging(.map("\(name).test", ["uri": .scalar(receiver.url(path)), "tls-policy": "may"]))
            }
            remotes = remotes.merging(["down.test": ["uri": "http://127.0.0.1:\(closedPort)/ischedule", "tls-policy": "may"]])
            alpha = try Self.start(
                "alpha.test", port: alphaPort, key: alphaKey, upstream: alphaUpstream, extra: ["remote-domains": remotes],
                tls: tls, caFile: certificates.caFile, dnsServer: dns.server)
            beta = try Self.start(
                "beta.test", port: betaPort, key: betaKey, upstream: betaUpstream, extra: [:],
                tls: tls, caFile: certificates.caFile, dnsServer: dns.server)
        }

        static func start(
            _ name: String, port: UInt16, key: RSAPrivateKey, upstream: TestCalendarServer, extra: GatewayYAML.Value,
            tls: (cert: String, key: String), caFile: String, dnsServer: String
        ) throws -> GatewayProcess {
            let directory = GatewayProcess.temporaryDirectory(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try key.pkcs8PEM.write(to: directory.appendingPathComponent("dkim.pem"), atomically: true, encoding: .utf8)
            var configuration = GatewayYAML.facingPeers(
                name, key: "dkim.pem", upstream: upstream.url(), https: "https://127.0.0.1:\(port)", certificate: tls, dns: dnsServer, caFile: caFile)
            configuration.merge(["dkim": ["query-methods": ["dns/txt"]], "timeouts": ["free-busy": "1s"]])
            configuration.merge(extra)
            return try GatewayProcess(configuration: configuration, directory: directory, listeners: 2)
        }

        /// The plain-http (local side) port of a gateway.
        func intakePort(_ gateway: GatewayProcess) -> UInt16 {
            let url = gateway.listening.first { $0.hasPrefix("http://") }!
            return UInt16(url.split(separator: ":").last!)!
        }

        /// Submits a message to a gateway's outbound intake as its local CalDAV server would.
        func submit(
            _ gateway: GatewayProcess, method: String = "REQUEST", component: String = "VEVENT", originator: String,
            organizer: String? = nil, recipients: [String], attendees: [String]? = nil
        ) throws -> (RawHTTPResponse, [UInt8]) {
            let body = ITIP.calendar(
                method: method, component: component, organizer: organizer ?? originator,
                attendees: attendees ?? recipients)
            let response = try RawHTTPConnection.exchange(
                port: intakePort(gateway), path: "/outbound",
                headers: [
                    ("Originator", originator), ("Recipient", recipients.joined(separator: ", ")),
                    ("Content-Type", ITIP.contentType(method, component))
                ], body: body, timeout: 30)
            return (response, body)
        }

        func stop() -> [Int32?] {
            let statuses = [alpha.stop(), beta.stop()]
            for server in [alphaUpstream, betaUpstream, receiver] { server.stop() }
            dns.stop()
            return statuses
        }
    }

    @Test("an invitation, its reply and a free-busy query cross between the two gateways")
    func exchange() throws {
        let world = try World()
        var stopped = false
        defer { if !stopped { _ = world.stop() } }

        let (invited, invitation) = try world.submit(world.alpha, originator: "mailto:alice@alpha.test", recipients: ["mailto:bob@beta.test"])
        #expect(invited.status == 200, "\(invited.text)")
        #expect(scheduleResponse(invited)?.items.map(\.requestStatus.code) == ["1.2"], "\(invited.text)")
        let delivered = try #require(world.betaUpstream.records.first)
        #expect(delivered.values("Originator") == ["mailto:alice@alpha.test"])
        #expect(delivered.values("Recipient") == ["mailto:bob@beta.test"])
        #expect(Array(delivered.body.utf8) == invitation)

        let (replied, reply) = try world.submit(
            world.beta, method: "REPLY", originator: "mailto:bob@beta.test",
            organizer: "mailto:alice@alpha.test", recipients: ["mailto:alice@alpha.test"],
            attendees: ["mailto:bob@beta.test"])
        #expect(scheduleResponse(replied)?.items.map(\.requestStatus.code) == ["1.2"], "\(replied.text)")
        let returned = try #require(world.alphaUpstream.records.first)
        #expect(returned.values("Originator") == ["mailto:bob@beta.test"])
        #expect(Array(returned.body.utf8) == reply)

        // Free-busy across receivers: beta answers with calendar-data, the slow receiver times out
        // (5.1) without holding the others back, gamma.test has no iSchedule (3.7: free-busy is
        // never queued and cannot go by e-mail).
        let started = Date()
        let recipients = ["mailto:bob@beta.test", "mailto:carol@beta.test", "mailto:slow@slow.test", "mailto:dave@gamma.test"]
        let (busy, _) = try world.submit(world.alpha, component: "VFREEBUSY", originator: "mailto:alice@alpha.test", recipients: recipients)
        let elapsed = Date().timeIntervalSince(started)
        let items = try #require(scheduleResponse(busy)?.items)
        #expect(items.map(\.recipient) == recipients)
        #expect(items.map(\.requestStatus.code) == ["2.0", "2.0", "5.1", "3.7"], "\(busy.text)")
        #expect(items[0].calendarData?.contains("ATTENDEE:mailto:bob@beta.test") == true)
        #expect(items[0].calendarData?.contains("FREEBUSY;FBTYPE=BUSY:20261201T000000Z/PT1H") == true)
        #expect(elapsed < 2.9, "free-busy took \(elapsed) s")
        // Check 15: beta saw only its own attendees.
        let query = try #require(world.betaUpstream.records.last)
        #expect(query.body.contains("mailto:bob@beta.test") && query.body.contains("mailto:carol@beta.test"))
        #expect(!query.body.contains("slow@slow.test") && !query.body.contains("dave@gamma.test"))

        let metrics = try RawHTTPConnection.exchange(port: world.intakePort(world.alpha), method: "GET", path: "/metrics").text
        #expect(metrics.contains("ischedule_deliveries_total{domain=\"beta.test\",outcome=\"delivered\"} 2"))
        #expect(metrics.contains("ischedule_deliveries_total{domain=\"gamma.test\",outcome=\"no_ischedule\"} 1"))
        stopped = true
        #expect(world.stop() == [0, 0])
    }

    @Test("outbound to a DNS-discovered domain and to static ones: 1.2 and 1.0, and the gateway keeps serving")
    func outboundDelivers() throws {
        // The release build once crashed on exactly this (docs/install.md, "Release builds"): CI runs this
        // suite again with ISCHEDULE_GATEWAY_BINARY pointing at the release binary.
        let world = try World()
        var stopped = false
        defer { if !stopped { _ = world.stop() } }
        let recipients = ["mailto:bob@beta.test", "mailto:rita@recorder.test", "mailto:dan@down.test"]
        for round in 1...3 {
            let (answer, _) = try world.submit(world.alpha, originator: "mailto:alice@alpha.test", recipients: recipients)
            #expect(answer.status == 200, "round \(round): \(answer.text)")
            #expect(scheduleResponse(answer)?.items.map(\.requestStatus.code) == ["1.2", "1.2", "1.0"], "round \(round): \(answer.text)")
            #expect(world.alpha.process.isRunning, "round \(round)")
        }
        #expect(world.betaUpstream.records.count == 3)
        #expect(world.receiver.records.filter { $0.values("Recipient") == ["mailto:rita@recorder.test"] }.count == 3)
        stopped = true
        #expect(world.stop() == [0, 0])
    }

    @Test("checks 6, 12, 13, 14, 26, 37: what the sender puts on the wire and how it reads answers")
    func senderBehaviour() async throws {
        let world = try World()
        defer { _ = world.stop() }
        let record = KeyRecord.text(for: world.alphaKey.publicKey)
        let verifier = DKIMVerifier(keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [record])]))

        // Three recipients, receiver max-recipients 2: two POSTs (check 12).
        let recipients = ["mailto:x@recorder.test", "mailto:y@recorder.test", "mailto:z@recorder.test"]
        let (sent, body) = try world.submit(world.alpha, originator: "mailto:alice@alpha.test", recipients: recipients)
        #expect(scheduleResponse(sent)?.items.map(\.requestStatus.code) == ["1.2", "1.2", "1.2"], "\(sent.text)")
        let posts = world.receiver.records
        #expect(
            posts.map { $0.values("Recipient") } == [["mailto:x@recorder.test,mailto:y@recorder.test"], ["mailto:z@recorder.test"]]
                || posts.map { $0.values("Recipient") } == [["mailto:z@recorder.test"], ["mailto:x@recorder.test,mailto:y@recorder.test"]])
        var messageIDs: Set<String> = []
        for post in posts {
            #expect(post.values("Originator") == ["mailto:alice@alpha.test"])  // check 14: the ORGANIZER
            #expect(post.values("iSchedule-Version") == ["1.0"])
            #expect(post.values("iSchedule-Message-ID").count == 1)
            messageIDs.formUnion(post.values("iSchedule-Message-ID"))
            #expect(post.values("Content-Type") == ["text/calendar; charset=utf-8; component=VEVENT; method=REQUEST"])
            #expect(post.values("Content-Length") == [String(body.count)])
            #expect(post.values("Cache-Control") == ["no-cache, no-transform"])
            let signatures = post.values("DKIM-Signature")
            #expect(signatures.count == 1)
            let tags = Dictionary(
                signatures[0].split(separator: ";").map {
                    let parts = $0.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                }, uniquingKeysWith: { first, _ in first })
            #expect(tags["v"] == "1" && tags["a"] == "rsa-sha256" && tags["c"] == "ischedule-relaxed/simple" && tags["q"] == "dns/txt")
            #expect((Int(tags["t"] ?? "") ?? 0) < (Int(tags["x"] ?? "") ?? 0))
            let signed = (tags["h"] ?? "").split(separator: ":").map { $0.lowercased() }
            #expect(Set(signed).count == signed.count)
            #expect(
                Set(signed).isSuperset(of: ["originator", "recipient", "content-type", "ischedule-version", "ischedule-message-id", "user-agent"]))
            #expect(Set(signed).isDisjoint(with: ["host", "content-length", "cache-control"]))
            let verified = try await verifier.verify(
                headers: post.headers.map { HeaderField(name: $0.name, value: $0.value) },
                body: Array(post.body.utf8))
            #expect(verified.domain == "alpha.test")
            #expect(Array(post.body.utf8) == body)
        }
        #expect(messageIDs.count == 2)

        // Check 6: 301, 302, 307 and 308 followed with the same body, re-signed; 301/308 remembered.
        for (domain, code, remembered) in [("moved301", 301, true), ("found302", 302, false), ("temp307", 307, false), ("perm308", 308, true)] {
            for round in 1...2 {
                let before = world.receiver.records.count
                let (answer, _) = try world.submit(
                    world.alpha, originator: "mailto:alice@alpha.test", recipients: ["mailto:r\(round)@\(domain).test"])
                #expect(scheduleResponse(answer)?.items.first?.requestStatus.code == "1.2", "\(domain) round \(round): \(answer.text)")
                let hops = Array(world.receiver.records[before...])
                let expected = round == 2 && remembered ? ["/ischedule"] : ["/p\(code)/ischedule", "/ischedule"]
                #expect(hops.map(\.path) == expected, "\(domain) round \(round)")
                #expect(Set(hops.map(\.body)).count == 1)
                for hop in hops {
                    _ = try await verifier.verify(
                        headers: hop.headers.map { HeaderField(name: $0.name, value: $0.value) }, body: Array(hop.body.utf8))
                }
            }
        }
        let (looped, _) = try world.submit(world.alpha, originator: "mailto:alice@alpha.test", recipients: ["mailto:r@loop.test"])
        #expect(scheduleResponse(looped)?.items.first?.requestStatus.code == "5.2")
        #expect(scheduleResponse(looped)?.items.first?.responseDescription?.contains("redirects") == true)

        // Check 26: refused connection 1.0, HTTP 500 5.1, a recipient left out 5.1. Those are what the
        // live attempt yields; the queue then takes them, so the caller sees 1.0 (pending) with
        // the attempt's status in the description.
        let (mixed, _) = try world.submit(
            world.alpha, originator: "mailto:alice@alpha.test",
            recipients: [
                "mailto:a@down.test", "mailto:b@broken.test", "mailto:missing@partial.test",
                "mailto:ok@partial.test", "mailto:bob@beta.test"
            ])
        let mixedItems = try #require(scheduleResponse(mixed)?.items)
        #expect(mixedItems.map(\.requestStatus.code) == ["1.0", "1.0", "1.0", "1.2", "1.2"], "\(mixed.text)")
        #expect(mixedItems[0].responseDescription?.contains("after 1.0") == true, "\(mixed.text)")
        #expect(mixedItems[1].responseDescription?.contains("after 5.1") == true && mixedItems[1].responseDescription?.contains("HTTP 500") == true)
        #expect(
            mixedItems[2].responseDescription?.contains("after 5.1") == true
                && mixedItems[2].responseDescription?.contains("did not answer for this recipient") == true)
    }
}
