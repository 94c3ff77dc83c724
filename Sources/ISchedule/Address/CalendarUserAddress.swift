/// A calendar-user address as it appears in Originator, Recipient, ORGANIZER and ATTENDEE.
///
/// `text` keeps the spelling that arrived (responses echo it); comparison uses a normalized form:
/// scheme lower-cased and, for `mailto:`, the whole address lower-cased. A `mailto:` with a
/// `?query` or `;parameters` is not accepted.
/// A bare `user@domain` (DAViCal's Recipient bug) is read as `mailto:user@domain`.
public struct CalendarUserAddress: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let normalized: String
    /// The scheme, lower case (`mailto`, `https`, `urn`…).
    public let scheme: String

    public init?(_ raw: String) {
        let trimmed = raw.trimmingBlanks
        guard !trimmed.isEmpty, !trimmed.contains(where: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "<" || $0 == ">" })
        else { return nil }
        text = trimmed
        if let colon = trimmed.firstIndex(of: ":"), Self.isScheme(trimmed[..<colon]) {
            scheme = trimmed[..<colon].lowercased()
            let rest = trimmed[trimmed.index(after: colon)...]
            guard !rest.isEmpty else { return nil }
            if scheme == "mailto" {
                // No `?query` or `;parameters`: what the gateway checked (the domain) must be what it
                // forwards, and `mailto:ann@peer.test?x=@example.com` reads differently to others.
                guard !rest.contains(where: { $0 == "?" || $0 == ";" }), Self.isMailbox(rest) else { return nil }
                normalized = "mailto:" + rest.lowercased()
            } else {
                normalized = scheme + ":" + rest
            }
        } else if Self.isMailbox(Substring(trimmed)) {
            scheme = "mailto"
            normalized = "mailto:" + trimmed.lowercased()
        } else {
            return nil
        }
    }

    /// The domain of a `mailto:` address (text after `@`, lower case); nil for other schemes.
    public var domain: String? {
        guard scheme == "mailto", let at = normalized.lastIndex(of: "@") else { return nil }
        return String(normalized[normalized.index(after: at)...])
    }

    public var description: String { text }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }
    public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    private static func isMailbox(_ text: Substring) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at], domain = text[text.index(after: at)...]
        return !local.isEmpty && !domain.isEmpty && !domain.contains("@")
            && domain.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }
            && !domain.hasPrefix(".") && !domain.hasSuffix(".")
    }
}

extension StringProtocol {
    /// The text without leading and trailing SP/HT/CR/LF.
    var trimmingBlanks: String {
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
