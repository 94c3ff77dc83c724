import Foundation
import ISchedule
import TestSupport
import TestTraits
import Testing

/// Protocol reference §13 checks 7–10 and 16–25 against a running gateway (a real process on a
/// loopback port, forwarding to a real HTTP server that records what arrives).
@Suite("Inbound conformance", .waitsOnProcesses)
struct InboundConformanceTests {
    @Test("checks 7-9: capabilities document, headers, action parameter")
    func capabilities() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let response = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/ischedule?action=capabilities")
        #expect(response.status == 200)
        let text = response.text
        #expect(text.contains("<query-result xmlns=\"urn:ietf:params:xml:ns:ischedule\">"))
        #expect(text.components(separatedBy: "<capabilities>").count == 2)
        let order = [
            "serial-number", "versions", "scheduling-messages", "calendar-data-types", "attachments", "max-content-length",
            "min-date-time", "max-date-time", "max-instances", "max-recipients", "administrator"
        ]
        let positions = order.map { text.range(of: "<\($0)>")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        let capabilities = try Capabilities(xml: response.body)
        #expect(capabilities.versions == ["1.0"])
        #expect(capabilities.maxContentLength == 65536)
        #expect(response.values("iSchedule-Capabilities") == [capabilities.serialNumber ?? "?"])
        #expect(response.values("iSchedule-Version") == ["1.0"])

        let legacy = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/ischedule?query=capabilities")
        #expect(legacy.status == 200)
        #expect(legacy.text.contains("<capability-set>"))
        for query in ["", "?action=capabilities&action=capabilities", "?action=bogus", "?foo=bar"] {
            let bad = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/ischedule" + query)
            #expect(bad.status == 400, "GET /.well-known/ischedule\(query)")
        }
        let canonical = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/ischedule?action=capabilities")
        #expect(canonical.status == 200)
    }

    @Test("check 10: every advertised component and method is accepted, others are not")
    func advertisedMessages() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let capabilities = try Capabilities(
            xml: RawHTTPConnection.exchange(
                port: bed.port, method: "GET", path: "/.well-known/ischedule?action=capabilities"
            ).body)
        var sent = 0
        for component in capabilities.schedulingMessages {
            for method in component.methods {
                let attendeeSends = ["REPLY", "REFRESH", "COUNTER"].contains(method)
                let body =
                    attendeeSends
                    ? ITIP.calendar(
                        method: method, component: component.name, organizer: "mailto:bob@beta.test", attendees: ["mailto:alice@alpha.test"])
                    : ITIP.calendar(
                        method: method, component: component.name, organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"])
                let headers = try RemoteSigner(domain: "alpha.test").sign(
                    [
                        ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"),
                        ("Content-Type", ITIP.contentType(method, component.name))
                    ], body: body)
                let response = try bed.post(headers, body: body)
                #expect(response.status == 200, "\(component.name) \(method): \(response.text)")
                #expect(scheduleResponse(response)?.items.first?.requestStatus.statusClass ?? 0 <= 2)
                sent += 1
            }
        }
        #expect(sent >= 10)
        #expect(bed.upstream.records.count == sent)
        for (component, method) in [("VEVENT", "PUBLISH"), ("VJOURNAL", "PUBLISH")] {
            let body = ITIP.calendar(method: method, component: component, organizer: "mailto:alice@alpha.test", attendees: ["mailto:bob@beta.test"])
            let headers = try RemoteSigner(domain: "alpha.test").sign(
                [
                    ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"),
                    ("Content-Type", ITIP.contentType(method, component))
                ], body: body)
            let response = try bed.post(headers, body: body)
            #expect(response.status == 400)
            #expect(precondition(of: response) == "invalid-scheduling-message", "\(component) \(method)")
        }
        #expect(bed.upstream.records.count == sent)
    }

    @Test("checks 16-20, 25: header and iTIP errors get the right precondition")
    func requestErrors() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let invite = ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@unsigned-ok.test", attendees: ["mailto:bob@beta.test"])
        let base: [(String, String)] = [
            ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", "mailto:bob@beta.test"),
            ("Content-Type", ITIP.contentType("REQUEST"))
        ]
        func expectError(
            _ headers: [(String, String)], _ body: [UInt8], _ expected: String, status: Int = 400,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let response = try bed.post(headers, body: body)
            #expect(response.status == status, "\(expected): \(response.text)", sourceLocation: sourceLocation)
            #expect(precondition(of: response) == expected, sourceLocation: sourceLocation)
            #expect(response.text.components(separatedBy: "<error ").count == 2, sourceLocation: sourceLocation)
            #expect(response.values("iSchedule-Version") == ["1.0"], sourceLocation: sourceLocation)
        }
        // 16: a signed request announcing version 2.0.
        var signed = try bed.signedInvite(to: ["mailto:bob@beta.test"])
        signed.headers = signed.headers.map { $0.0 == "iSchedule-Version" ? ($0.0, "2.0") : $0 }
        try expectError(signed.headers, signed.body, "version-not-supported")
        // 17
        try expectError(base.filter { $0.0 != "Originator" }, invite, "originator-missing")
        try expectError(base + [("Originator", "mailto:other@unsigned-ok.test")], invite, "too-many-originators")
        // 18
        try expectError(base.filter { $0.0 != "Recipient" }, invite, "recipient-missing")
        // 19
        try expectError(base.map { $0.0 == "Content-Type" ? ($0.0, "text/plain") : $0 }, invite, "invalid-calendar-data-type")
        try expectError(base, Array("this is not iCalendar".utf8), "invalid-calendar-data")
        // 20
        let noMethod = Array(String(decoding: invite, as: UTF8.self).replacingOccurrences(of: "METHOD:REQUEST\r\n", with: "").utf8)
        try expectError(base, noMethod, "invalid-scheduling-message")
        let reply = ITIP.calendar(
            method: "REPLY", organizer: "mailto:bob@beta.test", attendees: ["mailto:ann@unsigned-ok.test", "mailto:x@unsigned-ok.test"])
        try expectError(base.map { $0.0 == "Content-Type" ? ($0.0, ITIP.contentType("REPLY")) : $0 }, reply, "invalid-scheduling-message")
        let freeBusy = String(
            decoding: ITIP.calendar(
                method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:ann@unsigned-ok.test",
                attendees: ["mailto:bob@beta.test"]), as: UTF8.self)
        let block = freeBusy[freeBusy.range(of: "BEGIN:VFREEBUSY")!.lowerBound..<freeBusy.range(of: "END:VCALENDAR")!.lowerBound]
        let twoComponents = freeBusy.replacingOccurrences(of: "END:VCALENDAR", with: block + "END:VCALENDAR")
        try expectError(base, Array(twoComponents.utf8), "invalid-scheduling-message")
        let floating = freeBusy.replacingOccurrences(of: "DTSTART:20261201T000000Z", with: "DTSTART:20261201T000000")
        try expectError(base, Array(floating.utf8), "invalid-scheduling-message")
        #expect(bed.upstream.records.isEmpty)
    }

    @Test("checks 18, 21-23: recipient lists, own-domain originator, no relaying, response shape")
    func recipientsAndRelaying() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let body = ITIP.calendar(
            method: "REQUEST", organizer: "mailto:ann@unsigned-ok.test",
            attendees: ["mailto:bob@beta.test", "mailto:eve@elsewhere.test", "mailto:carol@beta.test"])
        let response = try bed.post(
            [
                ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", "mailto:bob@beta.test, mailto:eve@elsewhere.test"),
                ("Recipient", "mailto:carol@beta.test"), ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: body)
        #expect(response.status == 200)
        let answer = try #require(scheduleResponse(response))
        #expect(answer.items.map(\.recipient) == ["mailto:bob@beta.test", "mailto:eve@elsewhere.test", "mailto:carol@beta.test"])
        #expect(answer.items.map(\.requestStatus.code) == ["1.2", "3.7", "1.2"])
        let statusPattern = /^\d\.\d+(\.\d+)?;.*/
        for item in answer.items { #expect(item.requestStatus.description.wholeMatch(of: statusPattern) != nil) }
        #expect(response.values("iSchedule-Capabilities").count == 1)
        let forwarded = bed.upstream.records
        #expect(forwarded.count == 1)
        #expect(forwarded.first?.values("Recipient") == ["mailto:bob@beta.test,mailto:carol@beta.test"])
        #expect(forwarded.first?.body == String(decoding: body, as: UTF8.self))
        #expect(forwarded.first?.values("Originator") == ["mailto:ann@unsigned-ok.test"])

        // 22: only non-hosted recipients: answered 3.7, nothing forwarded.
        let relay = try bed.post(
            [
                ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", "mailto:eve@elsewhere.test"),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: body)
        #expect(scheduleResponse(relay)?.items.map(\.requestStatus.code) == ["3.7"])
        #expect(bed.upstream.records.count == 1)

        // 21: an Originator in our own domain.
        let spoofed = ITIP.calendar(method: "REQUEST", organizer: "mailto:mallory@beta.test", attendees: ["mailto:bob@beta.test"])
        let denied = try bed.post(
            [
                ("Originator", "mailto:mallory@beta.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST"))
            ], body: spoofed)
        #expect(denied.status == 403)
        #expect(precondition(of: denied) == "originator-denied")
        #expect(bed.upstream.records.count == 1)
    }

    @Test("check 24: free-busy answers carry the upstream's calendar-data")
    func freeBusy() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        let body = ITIP.calendar(
            method: "REQUEST", component: "VFREEBUSY", organizer: "mailto:alice@alpha.test",
            attendees: ["mailto:bob@beta.test"], uid: "fb-uid-1")
        let headers = try RemoteSigner(domain: "alpha.test").sign(
            [
                ("Originator", "mailto:alice@alpha.test"), ("Recipient", "mailto:bob@beta.test"),
                ("Content-Type", ITIP.contentType("REQUEST", "VFREEBUSY"))
            ], body: body)
        let response = try bed.post(headers, body: body)
        let item = try #require(scheduleResponse(response)?.items.first)
        #expect(item.requestStatus.code == "2.0")
        let data = try #require(item.calendarData)
        for line in [
            "METHOD:REPLY", "BEGIN:VFREEBUSY", "UID:fb-uid-1", "ORGANIZER:mailto:alice@alpha.test", "ATTENDEE:mailto:bob@beta.test",
            "DTSTART:20261201T000000Z", "DTEND:20261208T000000Z", "FREEBUSY;FBTYPE=BUSY:20261201T000000Z/PT1H"
        ] {
            #expect(data.contains(line), "\(line)")
        }
    }
}
