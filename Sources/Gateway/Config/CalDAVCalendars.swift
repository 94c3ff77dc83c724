internal import DKIM
internal import Foundation
internal import ISchedule
internal import Transport

/// Where a user's calendars are on our CalDAV server, and the service account that reads them:
/// `calendars` URL patterns (`{user}` for the address's local part, `{address}` for the whole
/// address, in the path or query only), `username` and `password`, `password-env` or
/// `password-file` (a file the gateway's user may read: the mail filter runs as that user
/// without the service's environment). The account's credentials cross the network only over
/// https (plain http only to loopback). Used by `free-busy:` (busy time) and
/// `imip-intake.organizer-calendars` (the organizer's own copy of an event).
struct CalDAVCalendars: Sendable, Equatable {
    var calendars: [String]
    var username: String?
    var password: String?
    /// The `password-env` variable when it was not set and secrets were not required (a tool, or
    /// the mail filter, which must then refuse to ask with a placeholder for a password).
    var unsetPasswordVariable: String?

    /// The keys `parse` reads, for the section's `allowOnly`.
    static let keys = ["calendars", "username", "password", "password-env", "password-file"]

    /// The calendar URLs of `mailbox`; nil for a local part that is not plain letters, digits,
    /// `.`, `_`, `-`, `~` (or is `.`/`..`): a server that unquotes its path (Radicale) would read
    /// `bob%2F` as `bob/`, another user's collection reached under a made-up address. Each
    /// substituted value is one path segment or one query value (the `@` of `{address}` encoded).
    func calendarURLs(for mailbox: Mailbox) -> [String]? {
        guard Self.isPlain(mailbox.local), let user = Self.component(mailbox.local), let address = Self.component(mailbox.text) else { return nil }
        return calendars.map { $0.replacingOccurrences(of: "{user}", with: user).replacingOccurrences(of: "{address}", with: address) }
    }

    /// Letters, digits, `.`, `_`, `-`, `~`, and not a dot segment.
    static func isPlain(_ value: String) -> Bool {
        value != "." && value != ".."
            && value.utf8.allSatisfy { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "~")].contains(byte)
            }
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

    /// Reads `calendars`, `username`, `password`/`password-env`/`password-file` of a section
    /// (which checks its own other keys).
    static func parse(
        _ reader: ConfigReader, environment: [String: String], requireSecrets: Bool, paths: PathResolver
    ) throws(ConfigurationError) -> CalDAVCalendars {
        let calendars = try reader.strings("calendars")
        guard !calendars.isEmpty else {
            throw ConfigurationError(key: reader.key("calendars"), problem: "missing (calendar collection URLs with {user} or {address})")
        }
        for (index, url) in calendars.enumerated() { try checkPattern(url, key: "\(reader.key("calendars"))[\(index)]") }
        let username = try reader.string("username")
        let password = try Self.password(reader, environment: environment, requireSecrets: requireSecrets, paths: paths)
        if username != nil && password == nil {
            throw ConfigurationError(key: reader.key("password"), problem: "missing (username is set)")
        }
        if username == nil && password != nil {
            throw ConfigurationError(key: reader.key("username"), problem: "missing (a password is set)")
        }
        if username != nil, let http = calendars.first(where: { !Self.isLoopbackOrHTTPS($0) }) {
            throw ConfigurationError(
                key: reader.key("calendars"), problem: "'\(http)' would send the account's password in clear: use https (plain http only to loopback)"
            )
        }
        var unset: String?
        if !requireSecrets, let variable = try reader.string("password-env"), environment[variable]?.isEmpty ?? true { unset = variable }
        return CalDAVCalendars(calendars: calendars, username: username, password: password, unsetPasswordVariable: unset)
    }

    /// An http(s) URL with `{user}` or `{address}` in its path or query, no user information.
    private static func checkPattern(_ url: String, key: String) throws(ConfigurationError) {
        guard
            let parts = URLComponents(string: filled(url)), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
            parts.host?.isEmpty == false
        else {
            throw ConfigurationError(key: key, problem: "'\(url)' is not an http(s) URL")
        }
        guard parts.user == nil && parts.password == nil else {
            throw ConfigurationError(key: key, problem: "'\(url)' carries user information: give the account as username and password")
        }
        guard url.contains("{user}") || url.contains("{address}") else {
            throw ConfigurationError(key: key, problem: "'\(url)' names no user ({user} or {address}): every user would get the same calendar")
        }
        let authority = url.dropFirst(scheme.count + 3).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("{") else {
            throw ConfigurationError(key: key, problem: "'\(url)' puts {user} or {address} in the host: only the path or query may name the user")
        }
    }

    private static func isLoopbackOrHTTPS(_ url: String) -> Bool {
        let sample = filled(url)
        return URLComponents(string: sample)?.scheme?.lowercased() == "https" || IPAddressRange.isLoopbackURL(sample)
    }

    /// A pattern with sample values in place of `{user}` and `{address}`, to parse as a URL.
    private static func filled(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: "{user}", with: "u").replacingOccurrences(of: "{address}", with: "a")
    }

    /// `password`, `password-env` or `password-file` (its first line), at most one of them.
    private static func password(
        _ reader: ConfigReader, environment: [String: String], requireSecrets: Bool, paths: PathResolver
    ) throws(ConfigurationError) -> String? {
        guard let file = try reader.string("password-file") else {
            return try reader.secret("password", environment: environment, required: requireSecrets)
        }
        if reader.node("password") != nil || reader.node("password-env") != nil {
            throw ConfigurationError(key: reader.key("password-file"), problem: "give one of password, password-env, password-file")
        }
        let path = paths.absolute(file)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty
        else {
            throw ConfigurationError(key: reader.key("password-file"), problem: "file \(path) does not exist, is not readable or is empty")
        }
        return String(line.hasSuffix("\r") ? line.dropLast() : line)
    }
}
