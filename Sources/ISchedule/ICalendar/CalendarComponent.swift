/// An iCalendar component (`BEGIN:NAME` … `END:NAME`) with its properties and sub-components.
package struct CalendarComponent: Sendable, Equatable {
    package let name: String
    package var properties: [ContentLine]
    package var components: [CalendarComponent]
    package let lineNumber: Int

    package func properties(_ name: String) -> [ContentLine] { properties.filter { $0.name == name } }
    package func property(_ name: String) -> ContentLine? { properties.first { $0.name == name } }

    /// Maximum nesting (VCALENDAR > VEVENT > VALARM is 3); deeper input is refused.
    static let maximumDepth = 16

    /// Builds the single VCALENDAR that an iTIP message must be.
    package static func calendar(from lines: [ContentLine]) throws(ICalendarSyntaxError) -> CalendarComponent {
        var stack: [CalendarComponent] = []
        var result: CalendarComponent?
        for line in lines {
            if result != nil {
                throw ICalendarSyntaxError(line: line.lineNumber, reason: "content after END:VCALENDAR (one calendar object per message)")
            }
            switch line.name {
            case "BEGIN":
                let name = line.value.uppercased()
                guard !name.isEmpty else { throw ICalendarSyntaxError(line: line.lineNumber, reason: "BEGIN without a component name") }
                if stack.isEmpty && name != "VCALENDAR" {
                    throw ICalendarSyntaxError(line: line.lineNumber, reason: "the data must start with BEGIN:VCALENDAR")
                }
                guard stack.count < maximumDepth else {
                    throw ICalendarSyntaxError(line: line.lineNumber, reason: "components nested more than \(maximumDepth) deep")
                }
                stack.append(CalendarComponent(name: name, properties: [], components: [], lineNumber: line.lineNumber))
            case "END":
                let name = line.value.uppercased()
                guard let open = stack.popLast() else {
                    throw ICalendarSyntaxError(line: line.lineNumber, reason: "END:\(name) without BEGIN")
                }
                guard open.name == name else {
                    throw ICalendarSyntaxError(line: line.lineNumber, reason: "END:\(name) closes BEGIN:\(open.name) of line \(open.lineNumber)")
                }
                if stack.isEmpty { result = open } else { stack[stack.count - 1].components.append(open) }
            default:
                guard !stack.isEmpty else {
                    throw ICalendarSyntaxError(line: line.lineNumber, reason: "the data must start with BEGIN:VCALENDAR")
                }
                stack[stack.count - 1].properties.append(line)
            }
        }
        if let open = stack.last {
            throw ICalendarSyntaxError(line: open.lineNumber, reason: "BEGIN:\(open.name) is never closed")
        }
        guard let result else { throw ICalendarSyntaxError(line: 1, reason: "no BEGIN:VCALENDAR") }
        return result
    }
}
