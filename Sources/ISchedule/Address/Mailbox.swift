/// A plain e-mail address `local@domain` (RFC 5321 §4.1.2 Mailbox with a dot-atom local part and
/// a domain name; RFC 6531 lets both carry UTF-8): the only form the gateway reads, wherever an
/// address comes from (envelope, Originator, Recipient, ORGANIZER, ATTENDEE). Quoted local parts,
/// comments, source routes, address literals and several `@` are refused, so that every reader
/// (our policy, the MTA, a mail client) sees the same domain; so are `%` and `!` (an MTA's percent
/// hack and bang paths route `a%b@ours` elsewhere) and `?` and `#` (a `mailto:` URI reader takes
/// what follows for header fields or a fragment, RFC 6068). Headers are written from `text`.
package struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// The local part as written (case kept: only the receiving domain may fold it).
    package let local: String
    /// The domain, lower case.
    package let domain: String

    package init?(_ raw: some StringProtocol) {
        let bytes = Array(raw.utf8)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes.lastIndex(of: UInt8(ascii: "@")) == at else { return nil }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard Self.isDotAtom(local), local.count <= 64, Self.isDomain(domain), domain.count <= 253 else { return nil }
        if bytes.contains(where: { $0 >= 0x80 }) {
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.unicodeScalars.allSatisfy(Self.isVisible), Self.startsClean(text) else { return nil }
        }
        self.local = String(decoding: local, as: UTF8.self)
        self.domain = String(decoding: domain.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The byte-level check of an all-ASCII candidate (the hot path of every ATTENDEE): the same
    /// rules as `init`, without building strings.
    static func isASCIIMailbox(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes.lastIndex(of: UInt8(ascii: "@")) == at else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        return local.count <= 64 && domain.count <= 253 && isDotAtom(local) && isDomain(domain)
    }

    /// `local@domain`, the domain in lower case.
    package var text: String { "\(local)@\(domain)" }
    package var description: String { text }

    /// RFC 5322 dot-atom: atext runs separated by single dots; UTF-8 beyond ASCII allowed (RFC 6531).
    static func isDotAtom(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, first != 0x2E, last != 0x2E else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 0x2E && previous == 0x2E { return false }
            guard byte == 0x2E || isAtext(byte) || byte >= 0x80 else { return false }
            previous = byte
        }
        return true
    }

    /// Labels of letters, digits, `-` and `_` (SRV-style names occur), or UTF-8 (U-labels),
    /// separated by single dots; no leading or trailing dot, no label over 63 octets.
    static func isDomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63,
                label.allSatisfy({ isLetterOrDigit($0) || $0 == 0x2D || $0 == 0x5F || $0 >= 0x80 })
            else { return false }
        }
        return true
    }

    /// No part (local part, domain label) starts with a combining mark: it would join the
    /// delimiter before it (`:`, `@`, `.`) into one character for whoever reads by characters.
    static func startsClean(_ text: String) -> Bool {
        var atStart = true
        for scalar in text.unicodeScalars {
            if atStart, [.nonspacingMark, .spacingMark, .enclosingMark].contains(scalar.properties.generalCategory) { return false }
            atStart = scalar == "@" || scalar == "."
        }
        return true
    }

    /// Beyond ASCII: no spaces, controls, format characters (bidi overrides), separators or
    /// code points without a meaning (unassigned, private use, the replacement of broken UTF-8).
    private static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        guard !scalar.isASCII else { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .privateUse, .surrogate, .unassigned: return false
        default: return scalar != "\u{FFFD}"
        }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    /// RFC 5322 §3.2.3 atext, without `!`, `#`, `%` and `?` (see the type's comment).
    private static func isAtext(_ byte: UInt8) -> Bool {
        if isLetterOrDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
