internal import Foundation

/// An RFC 5322 message or one MIME part of it (RFC 2045/2046): unfolded header fields and the
/// raw body. Reading never fails: a header block without a blank line after it is all header, a
/// missing Content-Type is `text/plain`, and what cannot be decoded is simply not a calendar.
package struct MailEntity: Sendable {
    package let headers: [(name: String, value: String)]
    package let body: ArraySlice<UInt8>

    package init(_ bytes: ArraySlice<UInt8>) {
        var fields: [(name: String, value: String)] = []
        var position = bytes.startIndex
        var bodyStart = bytes.endIndex
        while position < bytes.endIndex {
            let end = bytes[position...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var line = bytes[position..<end]
            if line.last == 0x0D { line = line.dropLast() }
            let next = min(end + 1, bytes.endIndex)
            if line.isEmpty {
                bodyStart = next
                break
            }
            if let first = line.first, first == 0x20 || first == 0x09, !fields.isEmpty {
                fields[fields.count - 1].value += " " + String(decoding: line, as: UTF8.self).trimmingBlanks
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                fields.append(
                    (
                        String(decoding: line[..<colon], as: UTF8.self).trimmingBlanks,
                        String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingBlanks
                    ))
            }
            position = next
        }
        headers = fields
        body = bytes[bodyStart...]
    }

    /// The first field called `name` (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Content-Type, `text/plain` when absent or unreadable (RFC 2045 §5.2).
    package var contentType: MediaType {
        header("Content-Type").flatMap(MediaType.init) ?? MediaType("text/plain; charset=us-ascii")!
    }

    /// The parts of a multipart body, between `--boundary` lines, up to the closing `--boundary--`.
    package var parts: [MailEntity] { parts(atMost: 200) }

    /// The first `limit` parts: a message of millions of tiny parts costs no more than `limit`.
    package func parts(atMost limit: Int) -> [MailEntity] {
        guard contentType.essence.hasPrefix("multipart/"), let boundary = contentType["boundary"], !boundary.isEmpty else { return [] }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [MailEntity] = []
        var partStart: Int?
        var position = body.startIndex
        while position < body.endIndex {
            let end = body[position...].firstIndex(of: 0x0A) ?? body.endIndex
            var line = body[position..<end]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                if closing || rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = partStart {
                        guard parts.count < limit else { return parts }
                        // The line break before the delimiter belongs to the delimiter.
                        var stop = position
                        if stop > start, body[stop - 1] == 0x0A { stop -= 1 }
                        if stop > start, body[stop - 1] == 0x0D { stop -= 1 }
                        parts.append(MailEntity(body[start..<stop]))
                    }
                    if closing { return parts }
                    partStart = min(end + 1, body.endIndex)
                }
            }
            position = min(end + 1, body.endIndex)
            if end == body.endIndex { break }
        }
        return parts
    }

    /// The body with its Content-Transfer-Encoding undone; nil for an encoding this reader does
    /// not know (RFC 2045 §6: 7bit, 8bit, binary, quoted-printable, base64).
    package var decodedBody: [UInt8]? {
        switch (header("Content-Transfer-Encoding") ?? "7bit").lowercased() {
        case "7bit", "8bit", "binary": Array(body)
        case "base64": Data(base64Encoded: Data(body.filter { !(0x09...0x0D).contains($0) && $0 != 0x20 })).map(Array.init)
        case "quoted-printable": Self.decodeQuotedPrintable(body)
        default: nil
        }
    }

    /// RFC 2045 §6.7: `=XX` octets, `=` at a line end joins lines; trailing blanks on a line dropped.
    package static func decodeQuotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if bytes.last == 0x0A { lines.removeLast() }
        for (number, raw) in lines.enumerated() {
            var line = raw
            if line.last == 0x0D { line = line.dropLast() }
            while let last = line.last, last == 0x20 || last == 0x09 { line = line.dropLast() }
            var soft = false
            var index = line.startIndex
            while index < line.endIndex {
                let byte = line[index]
                if byte == UInt8(ascii: "=") {
                    if index + 1 == line.endIndex {
                        soft = true
                        break
                    }
                    if index + 2 < line.endIndex, let high = hexValue(line[index + 1]), let low = hexValue(line[index + 2]) {
                        output.append(high << 4 | low)
                        index += 3
                        continue
                    }
                }
                output.append(byte)
                index += 1
            }
            if !soft && (number < lines.count - 1 || bytes.last == 0x0A) { output += [0x0D, 0x0A] }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
