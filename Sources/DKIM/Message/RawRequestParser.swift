/// Why a raw HTTP/1.x request could not be read; names the line or byte and the problem.
package struct RawRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String

    init(line: Int, _ message: String) { description = "line \(line): \(message)" }
    init(_ message: String) { description = message }
}

extension HTTPRequestMessage {
    /// Reads HTTP/1.x request bytes: request line, header fields (obsolete line folding is kept in
    /// the raw value), an empty line, then a body delimited by `Content-Length`, by chunked
    /// `Transfer-Encoding` (decoded here), or by the end of the input.
    package init(parsing bytes: [UInt8]) throws(RawRequestError) {
        var reader = LineReader(bytes: bytes)
        guard let requestLine = reader.nextLine() else { throw RawRequestError("the request is empty") }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            parts[0].allSatisfy(HTTPSyntax.isTokenCharacter),
            parts[2].starts(with: Array("HTTP/1.".utf8))
        else { throw RawRequestError(line: 1, "request line must be 'METHOD TARGET HTTP/1.x'") }
        var headers: [HeaderField] = []
        var sawEmptyLine = false
        while let line = reader.nextLine() {
            if line.isEmpty {
                sawEmptyLine = true
                break
            }
            let number = reader.lineNumber
            if line.first == 0x20 || line.first == 0x09 {
                guard !headers.isEmpty else { throw RawRequestError(line: number, "continuation line before any header") }
                headers[headers.count - 1].value += "\r\n" + (try Self.text(line, line: number))
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw RawRequestError(line: number, "header line has no ':'")
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenCharacter) else {
                throw RawRequestError(line: number, "invalid header name '\(String(decoding: name, as: UTF8.self))'")
            }
            headers.append(
                HeaderField(
                    name: String(decoding: name, as: UTF8.self),
                    value: try Self.text(line[(colon + 1)...], line: number)))
        }
        let rest = Array(reader.remainder)
        if !sawEmptyLine && !rest.isEmpty {
            throw RawRequestError("the header section does not end with an empty line")
        }
        let body = try Self.body(rest, headers: headers)
        self.init(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            version: String(decoding: parts[2], as: UTF8.self), headers: headers, body: body)
    }

    private static func text(_ bytes: ArraySlice<UInt8>, line: Int) throws(RawRequestError) -> String {
        if bytes.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A }) {
            throw RawRequestError(line: line, "header value contains NUL or a bare CR/LF")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RawRequestError(line: line, "header value is not valid UTF-8")
        }
        return text
    }

    private static func body(_ rest: [UInt8], headers: [HeaderField]) throws(RawRequestError) -> [UInt8] {
        let codings = headers.values(named: "Transfer-Encoding")
        let lengths = headers.values(named: "Content-Length")
        if !codings.isEmpty {
            guard lengths.isEmpty else { throw RawRequestError("both Transfer-Encoding and Content-Length are present") }
            let last = codings.joined(separator: ",").split(separator: ",").last.map { ASCII.trimmingWhitespace($0).lowercased() }
            guard last == "chunked" else {
                throw RawRequestError("unsupported Transfer-Encoding '\(codings.joined(separator: ", "))'")
            }
            return try ChunkedDecoder.decode(rest)
        }
        guard !lengths.isEmpty else { return rest }
        let trimmed = Set(lengths.flatMap { $0.split(separator: ",") }.map { String(ASCII.trimmingWhitespace($0)) })
        guard trimmed.count == 1, let text = trimmed.first, !text.isEmpty, text.utf8.count <= 18,
            text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text)
        else { throw RawRequestError("invalid Content-Length '\(lengths.joined(separator: ", "))'") }
        guard rest.count >= length else {
            throw RawRequestError("Content-Length is \(length) but only \(rest.count) body bytes follow")
        }
        guard rest.count == length else {
            throw RawRequestError("\(rest.count - length) bytes follow the \(length)-byte body that Content-Length announces")
        }
        return rest
    }
}

/// Splits bytes into lines ending in LF (an optional CR before it is dropped).
struct LineReader {
    let bytes: [UInt8]
    private(set) var position = 0
    private(set) var lineNumber = 0

    init(bytes: [UInt8], startingAt position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func nextLine() -> ArraySlice<UInt8>? {
        guard position < bytes.count else { return nil }
        lineNumber += 1
        let end = bytes[position...].firstIndex(of: 0x0A) ?? bytes.count
        var line = bytes[position..<end]
        if line.last == 0x0D { line = line.dropLast() }
        position = min(end + 1, bytes.count)
        return line
    }

    var remainder: ArraySlice<UInt8> { bytes[position...] }
}

/// Character classes from RFC 9110.
enum HTTPSyntax {
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
