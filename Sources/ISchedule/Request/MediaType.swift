/// A parsed `Content-Type`: media type and parameters (names lower-cased, quoted values unquoted).
/// Parameter order and spacing vary between implementations; parsing does not care.
package struct MediaType: Sendable, Equatable {
    /// `type/subtype`, lower case.
    package let essence: String
    package let parameters: [String: String]

    package init?(_ text: String) {
        var scanner = ParameterScanner(Array(text.utf8))
        guard let essence = scanner.token(stoppingAt: [UInt8(ascii: ";")]), essence.contains("/") else { return nil }
        self.essence = essence.lowercased()
        var parameters: [String: String] = [:]
        while scanner.skip(UInt8(ascii: ";")) {
            scanner.skipBlanks()
            if scanner.atEnd { break }
            guard let name = scanner.token(stoppingAt: [UInt8(ascii: "=")]), scanner.skip(UInt8(ascii: "=")) else { return nil }
            scanner.skipBlanks()
            guard let value = scanner.value() else { return nil }
            parameters[name.lowercased()] = value
        }
        guard scanner.atEnd else { return nil }
        self.parameters = parameters
    }

    package subscript(parameter: String) -> String? { parameters[parameter.lowercased()] }

    /// Whether an XML body of this type is acceptable (`text/xml` from Apple, `application/xml` elsewhere).
    package var isXML: Bool { essence == "application/xml" || essence == "text/xml" }
}

/// A cursor over header bytes for the `; name=value` grammar with quoted strings.
struct ParameterScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipBlanks() {
        while position < bytes.count && (bytes[position] == 0x20 || bytes[position] == 0x09) { position += 1 }
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        skipBlanks()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// A run of non-blank bytes up to a stop byte; nil when empty.
    mutating func token(stoppingAt stops: Set<UInt8>) -> String? {
        skipBlanks()
        let start = position
        while position < bytes.count && !stops.contains(bytes[position]) && bytes[position] != 0x20 && bytes[position] != 0x09 {
            position += 1
        }
        guard position > start else { return nil }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        skipBlanks()
        return token
    }

    /// A token or a quoted string with backslash escapes.
    mutating func value() -> String? {
        guard position < bytes.count else { return "" }
        guard bytes[position] == UInt8(ascii: "\"") else { return token(stoppingAt: [UInt8(ascii: ";")]) ?? "" }
        position += 1
        var out: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") {
                skipBlanks()
                return String(decoding: out, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\"), position < bytes.count {
                out.append(bytes[position])
                position += 1
                continue
            }
            out.append(byte)
        }
        return nil
    }
}
