import Foundation

/// The iSchedule XML namespace.
package let iScheduleNamespace = "urn:ietf:params:xml:ns:ischedule"
let davNamespace = "DAV:"
let calDAVNamespace = "urn:ietf:params:xml:ns:caldav"

/// A minimal element tree read with libxml2's reader (`XMLReader`; namespaces resolved). Documents
/// with a DTD are refused, so no entity expansion can happen.
package struct XMLTreeElement: Sendable, Equatable {
    package let namespace: String
    package let name: String
    package let attributes: [String: String]
    package var children: [XMLTreeElement]
    /// Concatenated character data directly inside this element.
    package var text: String

    package func child(_ name: String) -> XMLTreeElement? { children.first { $0.name == name } }
    package func children(_ name: String) -> [XMLTreeElement] { children.filter { $0.name == name } }
    /// The text without leading and trailing XML white space (SP, HT, CR, LF).
    package var trimmedText: String { text.trimmingBlanks }

    /// Parses a document; the error names the parser's complaint.
    package static func parse(_ data: [UInt8]) throws(XMLReadError) -> XMLTreeElement {
        guard !data.isEmpty else { throw XMLReadError("empty document") }
        if data.count > 8 * 1024 * 1024 { throw XMLReadError("document larger than 8 MiB") }
        let markup = Markup(data)
        if markup.declaresDTD { throw XMLReadError("documents with a DTD are not accepted") }
        // libxml2 would transcode other declared encodings: iSchedule XML is UTF-8, so anything
        // else is refused up front.
        guard String(validating: data, as: UTF8.self) != nil else { throw XMLReadError("document is not valid UTF-8") }
        if let encoding = declaredEncoding(data), !["utf-8", "utf8", "us-ascii"].contains(encoding.lowercased()) {
            throw XMLReadError("document declares encoding \(encoding); only UTF-8 is accepted")
        }
        // Only the leading XML declaration may use `<?`.
        if let first = markup.instructions.first, first != leadingDeclarationOffset(data) || markup.instructions.count > 1 {
            throw XMLReadError("processing instructions are not accepted")
        }
        return try XMLReader.tree(data, maximumDepth: 64)
    }
}

/// The `<!DOCTYPE`/`<!ENTITY` declarations and `<?` processing instructions of a document, found
/// in one pass over its bytes.
private struct Markup {
    var declaresDTD = false
    /// Offsets of `<?`; only the first two matter.
    var instructions: [Int] = []

    init(_ data: [UInt8]) {
        var index = data.startIndex
        while index < data.endIndex - 1 {
            if data[index] == UInt8(ascii: "<") {
                switch data[index + 1] {
                case UInt8(ascii: "!"):
                    let rest = data[(index + 2)...]
                    if rest.starts(with: "DOCTYPE".utf8) || rest.starts(with: "ENTITY".utf8) { declaresDTD = true }
                case UInt8(ascii: "?"):
                    instructions.append(index)
                    if instructions.count > 1 { return }
                default: break
                }
            }
            index += 1
        }
    }
}

/// Where an `<?xml ` declaration may start: offset 0, or 3 after a UTF-8 byte order mark.
private func leadingDeclarationOffset(_ data: [UInt8]) -> Int? {
    let start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    return data[start...].starts(with: Array("<?xml ".utf8)) ? start : nil
}

/// The `encoding` pseudo-attribute of a leading `<?xml …?>` declaration.
private func declaredEncoding(_ data: [UInt8]) -> String? {
    let head = String(decoding: data.prefix(256), as: UTF8.self)
    guard let start = head.range(of: "<?xml"), let end = head.range(of: "?>", range: start.upperBound..<head.endIndex) else {
        return nil
    }
    let declaration = head[start.upperBound..<end.lowerBound]
    guard let key = declaration.range(of: "encoding") else { return nil }
    let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
    guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
    return String(rest.dropFirst().prefix { $0 != quote })
}

/// Why an XML document could not be read.
package struct XMLReadError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
