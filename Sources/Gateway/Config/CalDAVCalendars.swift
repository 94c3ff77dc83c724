internal import DKIM
internal import Foundation
internal import ISchedule

/// Where a user's calendars are on our CalDAV server, and the service account that reads them:
/// `calendars` URL patterns (`{user}` for the address's local part, `{address}` for the whole
/// address), `username` and `password`/`password-env`. Used by `free-busy:` (busy time) and
/// `imip-intake.organizer-calendars` (the organizer's own copy of an event).
struct CalDAVCalendars: Sendable, Equatable {
    var calendars: [String]
    var username: String?
    var password: String?

    /// The keys `parse` reads, for the section's `allowOnly`.
    static let keys = ["calendars", "username", "password", "password-env"]

    /// The calendar URLs of `mailbox`: each substituted value is exactly one path segment or one
    /// query value, every octet outside RFC 3986 unreserved percent-encoded (so `/`, `&`, `=`,
    /// `?`, `#` and `%` never act as syntax), and nil for a value that would be a dot segment or
    /// empty (`.`, `..`: the URL would name another collection with the service account's rights).
    func calendarURLs(for mailbox: Mailbox) -> [String]? {
        guard let user = Self.component(mailbox.local), let address = Self.component(mailbox.text) else { return nil }
        return calendars.map { $0.replacingOccurrences(of: "{user}", with: user).replacingOccurrences(of: "{address}", with: address) }
    }

    /// The request headers of a REPORT to one of the calendars: Depth 1, XML, the account's Basic
    /// authorization when one is configured.
    var reportHeaders: [HeaderField] {
        var headers = [HeaderField(name: "Depth", value: "1"), HeaderField(name: "Content-Type", value: "application/xml; charset=utf-8")]
        if let username, let password {
            headers.append(HeaderField(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()))
        }
        return headers
    }

    /// One URL component from a value: unreserved octets as they are, every other one `%XX`.
    static func component(_ value: String) -> String? {
        guard !value.isEmpty, value != ".", value != ".." else { return nil }
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Reads `calendars`, `username`, `password`/`password-env` of a section (which checks its
    /// own other keys).
    static func parse(_ reader: ConfigReader, environment: [String: String], requireSecrets: Bool) throws(ConfigurationError) -> CalDAVCalendars {
        let calendars = try reader.strings("calendars")
        guard !calendars.isEmpty else {
            throw ConfigurationError(key: reader.key("calendars"), problem: "missing (calendar collection URLs with {user} or {address})")
        }
        for (index, url) in calendars.enumerated() {
            let key = "\(reader.key("calendars"))[\(index)]"
            guard
                let parts = URLComponents(string: url.replacingOccurrences(of: "{user}", with: "u").replacingOccurrences(of: "{address}", with: "a")),
                let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https", parts.host?.isEmpty == false
            else {
                throw ConfigurationError(key: key, problem: "'\(url)' is not an http(s) URL")
            }
            guard url.contains("{user}") || url.contains("{address}") else {
                throw ConfigurationError(key: key, problem: "'\(url)' names no user ({user} or {address}): every user would get the same calendar")
            }
        }
        let username = try reader.string("username")
        let password = try reader.secret("password", environment: environment, required: requireSecrets)
        if username != nil && password == nil {
            throw ConfigurationError(key: reader.key("password"), problem: "missing (username is set)")
        }
        if username == nil && password != nil {
            throw ConfigurationError(key: reader.key("username"), problem: "missing (a password is set)")
        }
        return CalDAVCalendars(calendars: calendars, username: username, password: password)
    }
}
