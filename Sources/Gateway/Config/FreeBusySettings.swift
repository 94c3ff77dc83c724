internal import DKIM
internal import Foundation
internal import ISchedule

/// `domains.<d>.free-busy:` free/busy for the users of a domain whose CalDAV server has no
/// iSchedule, answered from that server with an RFC 4791 `free-busy-query` REPORT on each of
/// the user's calendars, as a service account, for the remote domains allowed to ask.
struct FreeBusySettings: Sendable, Equatable {
    /// The users' calendars and the service account that may read their free/busy.
    var account: CalDAVCalendars
    /// Remote domains whose users may ask; `*` for any.
    var allowFrom: [String]
    /// REPORTs to the CalDAV server at once; one asking domain gets at most half of them.
    var connections: Int = 8

    func allows(_ domain: String) -> Bool { allowFrom.contains("*") || allowFrom.contains(domain.lowercased()) }

    /// The calendar URLs of `mailbox` (`CalDAVCalendars.calendarURLs`).
    func calendarURLs(for mailbox: Mailbox) -> [String]? { account.calendarURLs(for: mailbox) }

    static func parse(_ reader: ConfigReader?, environment: [String: String], requireSecrets: Bool, paths: PathResolver)
        throws(ConfigurationError) -> FreeBusySettings?
    {
        guard let reader else { return nil }
        reader.allowOnly(CalDAVCalendars.keys + ["allow-from", "connections"])
        let account = try CalDAVCalendars.parse(reader, environment: environment, requireSecrets: requireSecrets, paths: paths)
        let allowFrom = try reader.strings("allow-from").map { $0.lowercased() }
        guard !allowFrom.isEmpty else {
            throw ConfigurationError(key: reader.key("allow-from"), problem: "missing (the remote domains that may ask, or [\"*\"] for any)")
        }
        for (index, domain) in allowFrom.enumerated() where domain != "*" && !DNSName.isValidDomain(domain) {
            throw ConfigurationError(key: "\(reader.key("allow-from"))[\(index)]", problem: "'\(domain)' is not a domain name or *")
        }
        return FreeBusySettings(account: account, allowFrom: allowFrom, connections: try reader.int("connections", default: 8, in: 1...256))
    }
}
