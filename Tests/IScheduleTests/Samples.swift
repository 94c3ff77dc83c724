import Foundation
import TestSupport

/// Test documents in Tests/Fixtures: the protocol reference's vectors and our own samples.
enum Samples {
    static let directory = Fixtures.directory.deletingLastPathComponent().appendingPathComponent("ischedule")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The derived vectors' VEVENT REQUEST from alice@example.com to bob and carol.
    static func request() throws -> [UInt8] {
        Array((try Fixtures.json("derived-ischedule-signing-vectors.json")["body"] as! String).utf8)
    }

    static func calendar(method: String, component: String = "VEVENT", _ lines: [String]) -> [UInt8] {
        let text =
            ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "METHOD:\(method)", "BEGIN:\(component)"]
            + lines + ["END:\(component)", "END:VCALENDAR", ""]
        return Array(text.joined(separator: "\r\n").utf8)
    }

    static let headers: [(name: String, value: String)] = [
        ("Originator", "mailto:alice@example.com"),
        ("Recipient", "mailto:bob@example.org"),
        ("Content-Type", "text/calendar;charset=utf-8;method=REQUEST;component=VEVENT"),
        ("iSchedule-Version", "1.0"),
        ("iSchedule-Message-ID", "m-1")
    ]

    static func replacing(_ name: String, with values: [String]) -> [(name: String, value: String)] {
        headers.filter { $0.name != name } + values.map { (name, $0) }
    }
}
