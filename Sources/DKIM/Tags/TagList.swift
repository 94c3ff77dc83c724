/// A DKIM tag list (RFC 6376 §3.2): `name=value` pairs separated by `;`, as used by the
/// DKIM-Signature header and by key records.
///
/// Names are case-sensitive; blanks around names, `=` and values are dropped; a duplicate name
/// is an error. Each tag remembers where its value sits in the source text, so the signature's
/// `b=` value can be cut out of the raw header exactly.
package struct TagList: Sendable, Equatable {
    /// One `name=value` pair.
    package struct Tag: Sendable, Equatable {
        package let name: String
        /// The value with surrounding blanks removed (inner folding whitespace is kept).
        package let value: String
        /// UTF-8 offsets of `value` within the parsed text.
        package let valueRange: Range<Int>
    }

    package let tags: [Tag]
    /// The parsed text's UTF-8 bytes (what `valueRange` offsets refer to).
    package let source: [UInt8]

    /// The value of tag `name`, if present.
    package subscript(name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    package func tag(_ name: String) -> Tag? {
        tags.first { $0.name == name }
    }

    package init(parsing text: String) throws(TagListError) {
        let bytes = Array(text.utf8)
        var tags: [Tag] = []
        tags.reserveCapacity(16)
        var start = 0
        var index = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
            index += 1
            if let tag = try Self.parseSpec(bytes, start..<end, index: index) {
                if tags.contains(where: { $0.name == tag.name }) { throw .duplicateTag(tag.name) }
                tags.append(tag)
            } else if end < bytes.count {
                throw .emptyTagSpec(index: index)
            }
            start = end + 1
        }
        self.tags = tags
        self.source = bytes
    }

    /// Parses one tag-spec; nil when it is only whitespace (allowed once, after the last `;`).
    private static func parseSpec(_ bytes: [UInt8], _ range: Range<Int>, index: Int) throws(TagListError) -> Tag? {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && isFoldingWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower && isFoldingWhitespace(bytes[upper - 1]) { upper -= 1 }
        guard lower < upper else { return nil }
        guard let equals = bytes[lower..<upper].firstIndex(of: UInt8(ascii: "=")) else {
            throw .missingEquals(String(decoding: bytes[lower..<upper], as: UTF8.self))
        }
        var nameEnd = equals
        while nameEnd > lower && isFoldingWhitespace(bytes[nameEnd - 1]) { nameEnd -= 1 }
        let name = bytes[lower..<nameEnd]
        guard let first = name.first, isAlpha(first), name.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") })
        else { throw .invalidTagName(String(decoding: name, as: UTF8.self)) }
        var valueStart = equals + 1
        while valueStart < upper && isFoldingWhitespace(bytes[valueStart]) { valueStart += 1 }
        let nameText = String(decoding: name, as: UTF8.self)
        for byte in bytes[valueStart..<upper] where !(isValueCharacter(byte) || isFoldingWhitespace(byte)) {
            throw .invalidValueCharacter(tag: nameText, byte: byte)
        }
        return Tag(
            name: nameText, value: String(decoding: bytes[valueStart..<upper], as: UTF8.self),
            valueRange: valueStart..<upper)
    }

    @inline(__always) static func isFoldingWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    @inline(__always) private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    @inline(__always) private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// VALCHAR: printable US-ASCII except `;`.
    @inline(__always) private static func isValueCharacter(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: ";")
    }
}

/// Why a tag list is malformed.
package enum TagListError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyTagSpec(index: Int)
    case missingEquals(String)
    case invalidTagName(String)
    case invalidValueCharacter(tag: String, byte: UInt8)
    case duplicateTag(String)

    package var description: String {
        switch self {
        case .emptyTagSpec(let index): "tag \(index) is empty (';;')"
        case .missingEquals(let spec): "tag '\(spec)' has no '='"
        case .invalidTagName(let name): "invalid tag name '\(name)'"
        case .invalidValueCharacter(let tag, let byte): "tag \(tag)= contains the invalid byte 0x\(String(byte, radix: 16, uppercase: true))"
        case .duplicateTag(let name): "tag \(name)= appears more than once"
        }
    }
}
