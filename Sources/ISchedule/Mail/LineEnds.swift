/// CRLF line ends, as SMTP and RFC 5545 want them, for text handed over with bare LF (a pipe
/// from the MTA, XML character data).
package enum LineEnds {
    /// Every bare LF preceded by CR; nothing else changed.
    package static func crlf(_ text: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count + text.count / 40)
        var previous: UInt8 = 0
        for byte in text {
            if byte == 0x0A && previous != 0x0D { output.append(0x0D) }
            output.append(byte)
            previous = byte
        }
        return output
    }

    /// A calendar as RFC 5545 wants it: trailing blank space and line ends trimmed, then one CRLF.
    package static func endingInCRLF(_ calendar: [UInt8]) -> [UInt8] {
        var trimmed = calendar[...]
        while let last = trimmed.last, last == 0x0D || last == 0x0A || last == 0x20 || last == 0x09 { trimmed = trimmed.dropLast() }
        return Array(trimmed) + [0x0D, 0x0A]
    }
}
