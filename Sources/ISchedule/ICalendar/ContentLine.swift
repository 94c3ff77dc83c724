/// One unfolded iCalendar content line (RFC 5545 §3.1): `NAME *(;PARAM=value) : value`.
package struct ContentLine: Sendable, Equatable {
    /// Upper-cased property name.
    package let name: String
    /// Parameters in order; names upper-cased, quoted values unquoted.
    package let parameters: [(name: String, values: [String])]
    package let value: String
    /// Physical line (1-based) where the logical line starts.
    package let lineNumber: Int

    package func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name.uppercased() }?.values.first
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.name == rhs.name && lhs.value == rhs.value && lhs.lineNumber == rhs.lineNumber
            && lhs.parameters.map(\.name) == rhs.parameters.map(\.name) && lhs.parameters.map(\.values) == rhs.parameters.map(\.values)
    }
}

/// A syntax error with the physical line it was found on.
package struct ICalendarSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    package let line: Int
    package let reason: String
    package var description: String { "line \(line): \(reason)" }
}

/// Splits iCalendar text into unfolded content lines. Accepts CRLF and bare LF line ends.
package enum ContentLineParser {
    package static func parse(_ bytes: [UInt8]) throws(ICalendarSyntaxError) -> [ContentLine] {
        var lines: [ContentLine] = []
        var logical: [UInt8] = []
        var logicalStart = 0
        var physical = 0
        var position = 0
        func flush() throws(ICalendarSyntaxError) {
            if !logical.isEmpty { lines.append(try parseLine(logical, lineNumber: logicalStart)) }
            logical.removeAll(keepingCapacity: true)
        }
        while position < bytes.count {
            physical += 1
            var end = position
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > position && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = bytes[position..<lineEnd]
            position = end + 1
            if let first = line.first, first == 0x20 || first == 0x09 {
                guard !logical.isEmpty else {
                    throw ICalendarSyntaxError(line: physical, reason: "continuation line without a line to continue")
                }
                logical += line.dropFirst()
                continue
            }
            try flush()
            logical += line
            logicalStart = physical
        }
        try flush()
        return lines
    }

    static func parseLine(_ bytes: [UInt8], lineNumber: Int) throws(ICalendarSyntaxError) -> ContentLine {
        func fail(_ reason: String) -> ICalendarSyntaxError { ICalendarSyntaxError(line: lineNumber, reason: reason) }
        var position = 0
        func name() -> String? {
            let start = position
            while position < bytes.count && isNameCharacter(bytes[position]) { position += 1 }
            // Name characters are ASCII letters, digits and '-': upper-cased byte by byte.
            return position > start ? String(decoding: bytes[start..<position].map { $0 >= 0x61 ? $0 - 0x20 : $0 }, as: UTF8.self) : nil
        }
        guard let propertyName = name() else { throw fail("content line does not start with a property name") }
        var parameters: [(name: String, values: [String])] = []
        while position < bytes.count && bytes[position] == UInt8(ascii: ";") {
            position += 1
            guard let parameterName = name() else { throw fail("\(propertyName): parameter without a name") }
            guard position < bytes.count && bytes[position] == UInt8(ascii: "=") else {
                throw fail("\(propertyName): parameter \(parameterName) has no '='")
            }
            position += 1
            var values: [String] = []
            repeat {
                if position < bytes.count && bytes[position] == UInt8(ascii: ",") { position += 1 }
                if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                    position += 1
                    let start = position
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\"") {
                        guard !isControl(bytes[position]) else { throw fail("\(propertyName): control character in a quoted parameter") }
                        position += 1
                    }
                    guard position < bytes.count else { throw fail("\(propertyName): unterminated quoted parameter value") }
                    values.append(String(decoding: bytes[start..<position], as: UTF8.self))
                    position += 1
                } else {
                    let start = position
                    while position < bytes.count, !isParameterDelimiter(bytes[position]) {
                        guard !isControl(bytes[position]) else { throw fail("\(propertyName): control character in a parameter") }
                        position += 1
                    }
                    values.append(String(decoding: bytes[start..<position], as: UTF8.self))
                }
            } while position < bytes.count && bytes[position] == UInt8(ascii: ",")
            parameters.append((parameterName, values))
        }
        guard position < bytes.count && bytes[position] == UInt8(ascii: ":") else {
            throw fail("\(propertyName): expected ':' before the value")
        }
        let valueBytes = bytes[(position + 1)...]
        guard !valueBytes.contains(where: isControl) else { throw fail("\(propertyName): control character in the value") }
        guard let value = String(validating: valueBytes, as: UTF8.self) else { throw fail("\(propertyName): value is not UTF-8") }
        return ContentLine(name: propertyName, parameters: parameters, value: value, lineNumber: lineNumber)
    }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-")
    }

    private static func isParameterDelimiter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ";") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"")
    }

    /// CTL except HTAB (RFC 5545 VALUE-CHAR / QSAFE-CHAR exclude them).
    private static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09) || byte == 0x7F
    }
}
