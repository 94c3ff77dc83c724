/// Removes ATTENDEE properties from the VFREEBUSY components of an iCalendar body, leaving every
/// other byte as it was: an outgoing free-busy request lists only the attendees hosted by the
/// receiver it goes to (protocol reference §9, check 15).
package enum AttendeeFilter {
    package static func freeBusy(_ body: [UInt8], keeping keep: (CalendarUserAddress) -> Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var inFreeBusy = false
        for property in logicalLines(body) {
            let unfolded = unfold(property)
            let upper = String(decoding: unfolded.prefix(20), as: UTF8.self).uppercased()
            if upper.hasPrefix("BEGIN:VFREEBUSY") { inFreeBusy = true }
            if upper.hasPrefix("END:VFREEBUSY") { inFreeBusy = false }
            if inFreeBusy, upper.hasPrefix("ATTENDEE;") || upper.hasPrefix("ATTENDEE:"),
                let address = CalendarUserAddress(value(of: unfolded)), !keep(address)
            {
                continue
            }
            output.append(contentsOf: property)
        }
        return output
    }

    /// Physical lines grouped with their continuation lines, line endings included.
    static func logicalLines(_ body: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == UInt8(ascii: "\n") {
                let next = index + 1
                let continues = next < body.endIndex && (body[next] == UInt8(ascii: " ") || body[next] == UInt8(ascii: "\t"))
                if !continues {
                    lines.append(body[start..<next])
                    start = next
                }
            }
            index += 1
        }
        if start < body.endIndex { lines.append(body[start...]) }
        return lines
    }

    private static func unfold(_ line: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                index += 1
                if index < line.endIndex, line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\t") { index += 1 }
                continue
            }
            result.append(byte)
            index += 1
        }
        return result
    }

    /// The value after the first colon outside a quoted parameter value.
    private static func value(of line: [UInt8]) -> String {
        var quoted = false
        for (index, byte) in line.enumerated() {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: ":") && !quoted { return String(decoding: line[(index + 1)...], as: UTF8.self) }
        }
        return ""
    }
}
