internal import DKIM
internal import Foundation
internal import ISchedule

/// `domains.<d>.free-busy:` free/busy for the users of a domain whose CalDAV server has no
/// iSchedule, answered from that server with an RFC 4791 `free-busy-query` REPORT on each of
/// the user's calendars, as a service account, for the remote domains allowed to ask.
struct FreeBusySettings: Sendable, Equatable {
    /// Calendar collection URLs; `{user}` stands for the address's local part, `{address}` for
    /// the whole address, each one path segment or one query value (`calendarURLs`).
    var calendars: [String]
    var username: String?
    var password: String?
    /// Remote domains whose users may ask; `*` for any.
    var allowFrom: [String]
    /// REPORTs to the CalDAV server at once; one asking domain gets at most half of them.
    var connections: Int = 8

    func allows(_ domain: String) -> Bool { allowFrom.contains("*") || allowFrom.contains(domain.lowercased()) }

    /// The calendar URLs of `mailbox`: each substituted value is exactly one path segment or one
    /// query value, every octet outside RFC 3986 unreserved percent-encoded (so `/`, `&`, `=`,
    /// `?`, `#` and `%` never act as syntax), and nil for a value that would be a dot segment or
    /// empty (`.`, `..`: the URL would name another collection with the service account's rights).
    func calendarURLs(for mailbox: Mailbox) -> [String]? {
        guard let user = Self.component(mailbox.local), let address = Self.component(mailbox.text) else { return nil }
        return calendars.map { $0.replacingOccurrences(of: "{user}", with: user).replacingOccurrences(of: "{address}", with: address) }
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

    static func parse(_ reader: ConfigReader?, environment: [String: String], requireSecrets: Bool)
        throws(ConfigurationError) -> FreeBusySettings?
    {
        guard let reader else { return nil }
        reader.allowOnly(["calendars", "username", "password", "password-env", "allow-from", "connections"])
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
        let allowFrom = try reader.strings("allow-from").map { $0.lowercased() }
        guard !allowFrom.isEmpty else {
            throw ConfigurationError(key: reader.key("allow-from"), problem: "missing (the remote domains that may ask, or [\"*\"] for any)")
        }
        for (index, domain) in allowFrom.enumerated() where domain != "*" && !DNSName.isValidDomain(domain) {
            throw ConfigurationError(key: "\(reader.key("allow-from"))[\(index)]", problem: "'\(domain)' is not a domain name or *")
        }
        return FreeBusySettings(
            calendars: calendars, username: username, password: password, allowFrom: allowFrom,
            connections: try reader.int("connections", default: 8, in: 1...256))
    }
}
