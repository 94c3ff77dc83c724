internal import DKIM
internal import Foundation

/// `domains.<d>.free-busy:` free/busy for the users of a domain whose CalDAV server has no
/// iSchedule, answered from that server with an RFC 4791 `free-busy-query` REPORT on each of
/// the user's calendars, as a service account, for the remote domains allowed to ask.
struct FreeBusySettings: Sendable, Equatable {
    /// Calendar collection URLs; `{user}` stands for the address's local part, `{address}` for
    /// the whole address (both percent-encoded).
    var calendars: [String]
    var username: String?
    var password: String?
    /// Remote domains whose users may ask; `*` for any.
    var allowFrom: [String]

    func allows(_ domain: String) -> Bool { allowFrom.contains("*") || allowFrom.contains(domain.lowercased()) }

    /// The calendar URLs of the user at `address` (`local@domain`).
    func calendarURLs(for address: String) -> [String] {
        let local = String(address.split(separator: "@").first ?? "")
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/;?#")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return calendars.map {
            $0.replacingOccurrences(of: "{user}", with: encode(local)).replacingOccurrences(of: "{address}", with: encode(address))
        }
    }

    static func parse(_ reader: ConfigReader?, environment: [String: String], requireSecrets: Bool)
        throws(ConfigurationError) -> FreeBusySettings? {
        guard let reader else { return nil }
        reader.allowOnly(["calendars", "username", "password", "password-env", "allow-from"])
        let calendars = try reader.strings("calendars")
        guard !calendars.isEmpty else {
            throw ConfigurationError(key: reader.key("calendars"), problem: "missing (calendar collection URLs with {user} or {address})")
        }
        for (index, url) in calendars.enumerated() {
            let key = "\(reader.key("calendars"))[\(index)]"
            guard let parts = URLComponents(string: url.replacingOccurrences(of: "{user}", with: "u").replacingOccurrences(of: "{address}", with: "a")),
                  let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https", parts.host?.isEmpty == false else {
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
        return FreeBusySettings(calendars: calendars, username: username, password: password, allowFrom: allowFrom)
    }
}
