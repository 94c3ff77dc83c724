/// Header canonicalization algorithms (`c=` before the slash).
package enum HeaderCanonicalization: String, Sendable, Hashable, CaseIterable {
    /// iSchedule's algorithm: same-name fields merged with `,`, blanks collapsed, none around commas.
    case ischeduleRelaxed = "ischedule-relaxed"
    /// RFC 6376 relaxed, one field instance per `h=` entry, chosen from the bottom up.
    case relaxed
    /// RFC 6376 simple: the field exactly as received.
    case simple
    /// iSchedule draft-01 (DAViCal): `Name-as-in-h=: value` lines; verify only.
    case simpleHTTP = "simple-http"
}

/// Body canonicalization algorithms (`c=` after the slash).
package enum BodyCanonicalization: String, Sendable, Hashable, CaseIterable {
    case simple
    case relaxed
}

/// A parsed `c=` value.
package struct Canonicalization: Sendable, Hashable, CustomStringConvertible {
    package var header: HeaderCanonicalization
    package var body: BodyCanonicalization

    package init(header: HeaderCanonicalization, body: BodyCanonicalization) {
        self.header = header
        self.body = body
    }

    /// What iSchedule senders use: `ischedule-relaxed/simple`.
    package static let iSchedule = Canonicalization(header: .ischeduleRelaxed, body: .simple)

    /// Parses `header[/body]`; the body part defaults to `simple` (RFC 6376 §3.5).
    package init?(tagValue: String) {
        guard let slash = tagValue.utf8.firstIndex(of: UInt8(ascii: "/")) else {
            guard let header = HeaderCanonicalization(rawValue: tagValue) else { return nil }
            self.init(header: header, body: .simple)
            return
        }
        guard let header = HeaderCanonicalization(rawValue: String(tagValue[..<slash])),
            let body = BodyCanonicalization(rawValue: String(tagValue[tagValue.index(after: slash)...]))
        else { return nil }
        self.init(header: header, body: body)
    }

    package var description: String { "\(header.rawValue)/\(body.rawValue)" }
}
