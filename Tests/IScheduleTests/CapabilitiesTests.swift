import TestSupport
import Testing

@testable import ISchedule

/// §13 checks 7 and 11: reading every dialect, writing draft-05 in order and draft-01.
@Suite struct CapabilitiesTests {
    @Test func appleQuirksAreRead() throws {
        let caps = try Capabilities(xml: Samples.bytes("apple-capabilities.xml"))
        #expect(caps.serialNumber == "1")
        #expect(caps.versions == ["1.0"])
        #expect(caps.supports(component: "vevent", method: "reply"))
        #expect(!caps.supports(component: "VEVENT", method: "COUNTER"))
        #expect(caps.administrator == "https://calendar.example.com:8443/ischedule")
        #expect(caps.maxRecipients == 100 && caps.maxContentLength == 1_048_576)
        #expect(caps.attachments == [.external])
    }

    @Test func cyrusEmptyElementsAndRscalesAreRead() throws {
        let caps = try Capabilities(xml: Samples.bytes("cyrus-capabilities.xml"))
        #expect(caps.serialNumber == "1795544191")
        #expect(caps.maxRecipients == nil && caps.administrator == nil)
        #expect(caps.rscales == ["BUDDHIST", "GREGORIAN", "ROC"])
        #expect(caps.supports(component: "VPOLL", method: "POLLSTATUS"))
        #expect(caps.calendarDataTypes.map(\.contentType) == ["text/calendar", "application/calendar+xml", "application/calendar+json"])
        #expect(caps.calendarDataTypes[1].version == nil)
    }

    @Test func draft01CapabilitySetIsRead() throws {
        let caps = try Capabilities(xml: Samples.bytes("davical-capability-set.xml"))
        #expect(caps.versions == ["1.0"])
        #expect(caps.supports(component: "VEVENT", method: "REQUEST"))
        #expect(caps.supports(component: "VFREEBUSY", method: "REQUEST"))
        #expect(caps.recipientURISchemes == ["mailto"])
        #expect(caps.attachments == [.inline])
        #expect(caps.maxContentLength == 102_400)
    }

    @Test func egroupwareExampleIsRead() throws {
        let caps = try Capabilities(xml: Fixtures.bytes("egroupware-capabilities-example.xml"))
        #expect(caps.serialNumber == nil)
        #expect(caps.supports(component: "VEVENT", method: "ADD"))
        #expect(caps.supports(component: "VTODO", method: "REQUEST"))
        #expect(caps.attachments == [.inline, .external])
        #expect(caps.maxInstances == 150 && caps.maxRecipients == 250)
        #expect(caps.administrator == "mailto:ischedule-admin@example.com")
    }

    static func ours() -> Capabilities {
        var caps = Capabilities()
        caps.serialNumber = "42"
        caps.versions = ["1.0"]
        caps.schedulingMessages = [
            .init(name: "VEVENT", methods: ["REQUEST", "REPLY", "CANCEL"]),
            .init(name: "VFREEBUSY", methods: ["REQUEST"])
        ]
        caps.calendarDataTypes = [.init(contentType: "text/calendar", version: "2.0")]
        caps.attachments = [.external]
        caps.maxContentLength = 1_048_576
        caps.minDateTime = "19000101T000000Z"
        caps.maxDateTime = "21000101T000000Z"
        caps.maxInstances = 3000
        caps.maxRecipients = 100
        caps.administrator = "mailto:postmaster@example.com"
        return caps
    }

    @Test func draft05OutputHasCheck7OrderAndRoundTrips() throws {
        let xml = Self.ours().draft05XML()
        let root = try XMLTreeElement.parse(Array(xml.utf8))
        #expect(root.namespace == iScheduleNamespace && root.name == "query-result")
        #expect(root.children.map(\.name) == ["capabilities"])
        #expect(
            root.children[0].children.map(\.name) == [
                "serial-number", "versions", "scheduling-messages", "calendar-data-types", "attachments", "max-content-length",
                "min-date-time", "max-date-time", "max-instances", "max-recipients", "administrator"
            ])
        #expect(try Capabilities(xml: Array(xml.utf8)) == Self.ours())
    }

    @Test func draft01OutputRoundTrips() throws {
        var expected = Self.ours()
        expected.recipientURISchemes = ["mailto"]
        let parsed = try Capabilities(xml: Array(Self.ours().draft01XML().utf8))
        #expect(parsed.versions == expected.versions && parsed.schedulingMessages == expected.schedulingMessages)
        #expect(parsed.recipientURISchemes == ["mailto"] && parsed.maxRecipients == 100)
        #expect(try XMLTreeElement.parse(Array(Self.ours().draft01XML().utf8)).children.first?.name == "capability-set")
    }

    @Test func wrongRootsAndDTDsAreRefused() {
        #expect(throws: XMLReadError.self) { try Capabilities(xml: Array("<schedule-response/>".utf8)) }
        #expect(throws: XMLReadError.self) {
            try Capabilities(xml: Array("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><query-result>&a;</query-result>".utf8))
        }
        #expect(throws: XMLReadError.self) { try Capabilities(xml: Array("<query-result><capabilities>".utf8)) }
        #expect(throws: XMLReadError.self) { try Capabilities(xml: []) }
    }
}

/// Inputs that once crashed FoundationXML's parser, and the limits that keep the reader bounded.
@Suite struct XMLGuardTests {
    @Test func invalidUTF8InAnElementNameIsRefusedBeforeTheParserSeesIt() {
        var bytes = Array("<query-result xmlns=\"urn:ietf:params:xml:ns:ischedule\"><capabilities><cXomponent/></capabilities></query-result>".utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "X"))!] = 0xEF
        #expect(throws: XMLReadError("document is not valid UTF-8")) { try Capabilities(xml: bytes) }
    }

    @Test func processingInstructionsOtherThanTheDeclarationAreRefused() throws {
        #expect(throws: XMLReadError("processing instructions are not accepted")) {
            try ScheduleResponse(xml: Array("<?x?>\n<schedule-response xmlns=\"urn:ietf:params:xml:ns:ischedule\"/>".utf8))
        }
        #expect(throws: XMLReadError("processing instructions are not accepted")) {
            try ScheduleResponse(xml: Array("<?xml version=\"1.0\"?><?x?><schedule-response/>".utf8))
        }
        let declared = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?><schedule-response xmlns=\"urn:ietf:params:xml:ns:ischedule\"/>"
        #expect(try ScheduleResponse(xml: Array(declared.utf8)).items.isEmpty)
    }

    @Test func otherDeclaredEncodingsAreRefused() {
        #expect(throws: XMLReadError("document declares encoding ISO-8859-1; only UTF-8 is accepted")) {
            try ErrorDocument(xml: Array("<?xml version='1.0' encoding='ISO-8859-1'?><error/>".utf8))
        }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: XMLReadError.self) { try Capabilities(xml: Array(deep.utf8)) }
    }
}
