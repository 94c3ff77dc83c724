import ISchedule
import Testing

@testable import Gateway

/// §13 check 12: never more than max-recipients per request (split instead), never a body over
/// max-content-length, only what the receiver advertises.
@Suite struct CapabilityLimitsTests {
    static func capabilities(maxRecipients: Int?, maxContentLength: Int?) -> Capabilities {
        var caps = Capabilities()
        caps.versions = ["1.0"]
        caps.schedulingMessages = [.init(name: "VEVENT", methods: ["REQUEST", "REPLY", "CANCEL"]), .init(name: "VFREEBUSY", methods: ["REQUEST"])]
        caps.calendarDataTypes = [.init(contentType: "text/calendar", version: "2.0")]
        caps.maxRecipients = maxRecipients
        caps.maxContentLength = maxContentLength
        return caps
    }

    @Test func recipientsAreSplitIntoBatchesInOrder() {
        let recipients = (1...7).map { "mailto:u\($0)@example.org" }
        let batches = CapabilityLimits.batches(recipients, capabilities: Self.capabilities(maxRecipients: 3, maxContentLength: nil))
        #expect(batches.map(\.count) == [3, 3, 1])
        #expect(batches.flatMap { $0 } == recipients)
        #expect(CapabilityLimits.batches(recipients, capabilities: Self.capabilities(maxRecipients: nil, maxContentLength: nil)).count == 1)
        #expect(CapabilityLimits.batches([String](), capabilities: Self.capabilities(maxRecipients: 3, maxContentLength: nil)).isEmpty)
    }

    @Test func bodiesAndMessagesOutsideTheCapabilitiesAreRefused() {
        let caps = Self.capabilities(maxRecipients: 100, maxContentLength: 1_000)
        #expect(throws: Never.self) { try CapabilityLimits.check(bodySize: 1_000, component: "VEVENT", method: "REQUEST", capabilities: caps) }
        #expect(throws: CapabilityLimits.Violation.bodyTooLarge(size: 1_001, maximum: 1_000)) {
            try CapabilityLimits.check(bodySize: 1_001, component: "VEVENT", method: "REQUEST", capabilities: caps)
        }
        #expect(throws: CapabilityLimits.Violation.unsupportedMessage(component: "VEVENT", method: "COUNTER")) {
            try CapabilityLimits.check(bodySize: 10, component: "VEVENT", method: "COUNTER", capabilities: caps)
        }
        #expect(throws: CapabilityLimits.Violation.unsupportedDataType("application/calendar+json")) {
            try CapabilityLimits.check(
                bodySize: 10, component: "VEVENT", method: "REQUEST", contentType: "application/calendar+json", capabilities: caps)
        }
        var future = caps
        future.versions = ["2.0"]
        #expect(throws: CapabilityLimits.Violation.unsupportedVersion(["2.0"])) {
            try CapabilityLimits.check(bodySize: 10, component: "VEVENT", method: "REQUEST", capabilities: future)
        }
    }
}
