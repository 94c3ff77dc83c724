/// A calendar-user address as it appears in Originator, Recipient, ORGANIZER and ATTENDEE.
///
/// `text` keeps the spelling that arrived (responses echo it); comparison uses a normalized form:
/// scheme lower-cased and, for `mailto:`, the whole address lower-cased. A `mailto:` address is
/// a plain `local@domain` (`Mailbox`): no `?query`, `;parameters`, comments, quoted local parts,
/// routes or second `@`, so our policy, the MTA and mail clients read the same domain. Headers
/// the gateway writes use `canonical`, built from the parsed parts, never `text`.
/// A bare `user@domain` (DAViCal's Recipient bug) is read as `mailto:user@domain`.
package struct CalendarUserAddress: Sendable, Hashable, CustomStringConvertible {
    package let text: String
    package let normalized: String
    /// The scheme, lower case (`mailto`, `https`, `urn`…).
    package let scheme: String

    package init?(_ raw: String) {
        let trimmed = raw.trimmingBlanks
        // Addresses are ASCII nearly always: read byte by byte (the hot path of every ATTENDEE);
        // anything else by Characters, with the same rules.
        guard let parsed = Self.ascii(trimmed) ?? Self.characters(trimmed) else { return nil }
        (text, scheme, normalized) = (trimmed, parsed.scheme, parsed.normalized)
    }

    /// The reading of any text (the byte-level one covers ASCII, with the same rules). Delimiters
    /// are found among Unicode scalars, never Characters: a combining mark after `:` or a blank
    /// would hide it inside one grapheme cluster.
    static func characters(_ trimmed: String) -> (scheme: String, normalized: String)? {
        guard !trimmed.isEmpty, !trimmed.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "<" || $0 == ">" })
        else { return nil }
        let scalars = trimmed.unicodeScalars
        if let colon = scalars.firstIndex(of: ":"), case let head = Substring(scalars[..<colon]), isScheme(head) {
            let scheme = head.lowercased()
            let rest = Substring(scalars[scalars.index(after: colon)...])
            guard !rest.isEmpty else { return nil }
            guard scheme == "mailto" else { return (scheme, scheme + ":" + rest) }
            // No `?query` or `;parameters`: what the gateway checked (the domain) must be what it
            // forwards, and `mailto:ann@peer.test?x=@example.com` reads differently to others.
            guard Mailbox(rest) != nil else { return nil }
            return (scheme, "mailto:" + rest.lowercased())
        }
        guard Mailbox(trimmed) != nil else { return nil }
        return ("mailto", "mailto:" + trimmed.lowercased())
    }

    /// The byte-level reading of an all-ASCII address: nil when `text` is not ASCII or not an
    /// address (`characters` then decides: it refuses what this refused).
    static func ascii(_ text: String) -> (scheme: String, normalized: String)? {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }),
            !bytes.isEmpty, !bytes.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C || $0 == 0x3C || $0 == 0x3E })
        else {
            return nil
        }
        func lower(_ slice: ArraySlice<UInt8>) -> String {
            String(decoding: slice.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        if let colon = bytes.firstIndex(of: 0x3A), isScheme(bytes[..<colon]) {
            let scheme = lower(bytes[..<colon])
            let rest = bytes[(colon + 1)...]
            guard !rest.isEmpty else { return nil }
            guard scheme == "mailto" else { return (scheme, scheme + ":" + String(decoding: rest, as: UTF8.self)) }
            guard Mailbox.isASCIIMailbox(rest) else { return nil }
            return (scheme, "mailto:" + lower(rest))
        }
        guard Mailbox.isASCIIMailbox(bytes[...]) else { return nil }
        return ("mailto", "mailto:" + lower(bytes[...]))
    }

    private static func isScheme(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, isASCIILetter(first) else { return false }
        return bytes.allSatisfy { isASCIILetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    /// The form the gateway writes into headers: `mailto:` and the parsed mailbox (local part as
    /// written, domain in lower case); other schemes as `scheme:rest`, their text having been
    /// checked free of blanks, commas and angle brackets.
    package var canonical: String {
        if let mailbox { return "mailto:" + mailbox.text }
        guard let colon = text.unicodeScalars.firstIndex(of: ":") else { return text }
        return scheme + Substring(text.unicodeScalars[colon...])
    }

    /// The mailbox of a `mailto:` address (its local part as written); nil for other schemes.
    package var mailbox: Mailbox? {
        guard scheme == "mailto" else { return nil }
        let scalars = text.unicodeScalars
        let prefixed = scalars.count > 7 && String(String.UnicodeScalarView(scalars.prefix(7))).lowercased() == "mailto:"
        return prefixed ? Mailbox(Substring(scalars.dropFirst(7))) : Mailbox(text)
    }

    /// The domain of a `mailto:` address, lower case the way `Mailbox` folds it (ASCII letters
    /// only: one fold for policy, routing and the headers written); nil for other schemes.
    package var domain: String? {
        guard scheme == "mailto", let at = normalized.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        // All-ASCII text (nearly every address): its normalized form is folded the same way.
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return mailbox?.domain }
        return String(normalized[normalized.utf8.index(after: at)...])
    }

    package var description: String { text }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }
    package func hash(into hasher: inout Hasher) { hasher.combine(normalized) }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

}

extension StringProtocol {
    /// The text without leading and trailing SP/HT/CR/LF.
    var trimmingBlanks: String {
        func blank(_ byte: UInt8?) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        let bytes = Substring(self).utf8
        if !blank(bytes.first), !blank(bytes.last) { return String(self) }
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\r" || first == "\n" || first == "\r\n" {
            slice.removeFirst()
        }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" || last == "\n" || last == "\r\n" {
            slice.removeLast()
        }
        return String(slice)
    }
}
