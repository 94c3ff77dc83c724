import Foundation
import FoundationXML
import TestSupport
import TestTraits
import Testing

/// deploy/apple-ccs-remoteservers.xml and the CCS guidance in deploy/README.md, checked: the entry
/// is valid against Apple's remoteservers DTD, and a request shaped as CCS sends it to that
/// entry's <uri> (no secret header, from loopback) is accepted by a gateway configured as the
/// guide says, signed, and delivered to the partner domain's receiver.
@Suite(.waitsOnProcesses) struct AppleCCSGuideTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let entry = repository.appendingPathComponent("deploy/apple-ccs-remoteservers.xml")

    @Test func theEntryIsValidAgainstApplesDTD() throws {
        try Prerequisites.require(Prerequisites.xmllint, for: "xmllint")
        let dtd = Self.repository.appendingPathComponent("Tests/Fixtures/vectors/apple-conf-remoteservers.dtd").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        process.arguments = ["--noout", "--nonet", "--dtdvalid", dtd, Self.entry.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
    }

    @Test func whatCCSSendsToTheEntrysURIIsDelivered() throws {
        let document = try XMLDocument(data: Data(contentsOf: Self.entry), options: [])
        let uri = try #require(try document.nodes(forXPath: "/servers/server/uri").first?.stringValue)
        let target = try #require(URLComponents(string: uri))
        let domains = try document.nodes(forXPath: "/servers/server/domains/domain").compactMap(\.stringValue)
        #expect(
            target.scheme == "http" && target.host == "127.0.0.1" && target.path == "/outbound" && domains.count == 2,
            "the entry names the loopback intake and its partner domains: \(uri) \(domains)")
        let receiver = try TestCalendarServer()
        defer { receiver.stop() }
        // As deploy/README.md says for CCS: a loopback intake listener, allow-from loopback, no
        // outbound secret (CCS cannot send one); the partner domains' receivers found as usual
        // (here a static route, as no DNS is published for them).
        var configuration = GatewayYAML.local("example.com", key: "keys/example.com.pem", upstream: "http://127.0.0.1:9/ischedule")
        configuration["outbound", "path"] = .scalar(target.path)
        for domain in domains { configuration["remote-domains", domain] = ["uri": .scalar(receiver.url()), "tls-policy": "may"] }
        let gateway = try GatewayProcess(
            configuration: configuration, directory: GatewayProcess.temporaryDirectory("ccs"))
        defer { #expect(gateway.stop() == 0) }
        let recipient = "mailto:user02@\(domains[0])"
        // CCS's iSchedule request: the iSchedule headers, no DKIM (the guide turns CCS's signing off).
        let answer = try RawHTTPConnection.exchange(
            port: gateway.ports[0], path: target.path,
            headers: [
                ("Originator", "mailto:user01@example.com"), ("Recipient", recipient), ("iSchedule-Version", "1.0"),
                ("Content-Type", "text/calendar; charset=utf-8; component=VEVENT; method=REQUEST")
            ],
            body: ITIP.calendar(method: "REQUEST", organizer: "mailto:user01@example.com", attendees: [recipient]))
        #expect(answer.status == 200 && scheduleResponse(answer)?.items.first?.requestStatus.code == "1.2", "\(answer.text)")
        let delivered = try #require(receiver.records.first)
        #expect(delivered.values("Recipient") == [recipient])
        #expect(delivered.values("DKIM-Signature").first?.contains("d=example.com") == true, "the gateway signs for CCS")
    }
}
