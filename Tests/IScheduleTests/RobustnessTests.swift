import TestSupport
import Testing

@testable import ISchedule

/// 100,000 generated and mutated inputs per reader; each ends in a value or a precise error.
@Suite struct RobustnessTests {
    static let iterations = 100_000

    @Test func iCalendarInspectorSurvivesMutatedInput() async throws {
        let corpus = [try Samples.request(), try Samples.bytes("reply.ics"), try Samples.bytes("freebusy-request.ics")]
        let tokens = [
            "BEGIN:VCALENDAR\r\n", "END:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", "END:VEVENT\r\n", "BEGIN:VFREEBUSY\r\n",
            "METHOD:REPLY\r\n", "ATTENDEE;CN=\"a,b\":mailto:x@y.z\r\n", "ORGANIZER:mailto:o@p.q\r\n", ";", ":", ",",
            "\"", "\r\n ", "\r\n\t", "=", "UID:", "DTSTART:20240101T000000Z\r\n"
        ]
        var mutator = InputMutator(seed: 0x1CA1, corpus: corpus, tokens: tokens)
        var accepted = 0
        var codes: [IScheduleErrorCode: Int] = [:]
        for iteration in 0..<Self.iterations {
            if iteration % 256 == 0 { await Task.yield() }  // share the pool with timing-sensitive suites
            do {
                let message = try ITIPMessage(parsing: mutator.nextInput())
                accepted += 1
                #expect(message.organizer != nil)
            } catch {
                #expect(error.code == .invalidCalendarData || error.code == .invalidSchedulingMessage)
                #expect(!error.reason.isEmpty)
                codes[error.code, default: 0] += 1
            }
        }
        #expect(accepted > 100 && (codes[.invalidCalendarData] ?? 0) > 100 && (codes[.invalidSchedulingMessage] ?? 0) > 100)
    }

    @Test func xmlReadersSurviveMutatedInput() async throws {
        let corpus = [
            try Samples.bytes("apple-capabilities.xml"), try Samples.bytes("cyrus-capabilities.xml"),
            try Samples.bytes("davical-capability-set.xml"), try Fixtures.bytes("egroupware-capabilities-example.xml"),
            Array(ScheduleResponse(items: [.init(recipient: "mailto:a@b.c", requestStatus: .delivered)]).xml().utf8),
            Array(ErrorDocument(IScheduleError(.recipientMissing, "none")).xml().utf8)
        ]
        let tokens = [
            "<", ">", "/>", "</", "&", "&amp;", "&#0;", "<![CDATA[", "]]>", "xmlns=\"x\"", "<response>",
            "<request-status>2.0;ok</request-status>", "=\"", "<!--", "-->", "<?xml", "\u{FEFF}"
        ]
        var mutator = InputMutator(seed: 0x0C4F, corpus: corpus, tokens: tokens)
        var parsed = 0
        var refused = 0
        for iteration in 0..<Self.iterations {
            if iteration % 256 == 0 { await Task.yield() }  // share the pool with timing-sensitive suites
            let input = mutator.nextInput()
            var readable = false
            if (try? Capabilities(xml: input)) != nil { readable = true }
            if (try? ScheduleResponse(xml: input)) != nil { readable = true }
            if (try? ErrorDocument(xml: input)) != nil { readable = true }
            if readable { parsed += 1 } else { refused += 1 }
        }
        #expect(parsed > 1_000 && refused > 1_000)
    }
}
