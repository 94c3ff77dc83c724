internal import Foundation
internal import ISchedule
internal import Transport

/// `imip-intake:`: the mail filter's way back into the MTA. Everything the filter does not send
/// by iSchedule is handed, unchanged, to `reinject-url`: the MTA's filter-free re-injection
/// service (Postfix: a second `smtpd` on loopback with `content_filter=` empty), never the port
/// the filter sits on, or mail would loop. `trusted-senders`: the system addresses a CalDAV
/// server sends every invitation from (Nextcloud's), besides the organizer's own (`SenderBinding`);
/// each in one of our domains. `infer-requests-from`: trusted senders whose calendars without
/// METHOD (Radicale's stored event) count as REQUESTs (`SenderBinding.infersRequests`), each
/// confirmed in the organizer's own calendars (`organizer-calendars`, required with it:
/// `OrganizerCopy`).
struct IMIPIntakeSettings: Sendable, Equatable {
    var reinjectURL: String
    /// Lower case.
    var trustedSenders: Set<String> = []
    /// Lower case; each also in `trustedSenders`.
    var inferRequestsFrom: Set<String> = []
    /// The organizers' calendars and the account that reads them; set when `inferRequestsFrom` is.
    var organizerCalendars: CalDAVCalendars?

    static func parse(
        _ reader: ConfigReader?, localDomains: Set<String>, environment: [String: String] = [:], requireSecrets: Bool = true,
        paths: PathResolver = PathResolver(directory: "/")
    ) throws(ConfigurationError) -> IMIPIntakeSettings? {
        guard let reader else { return nil }
        reader.allowOnly(["reinject-url", "trusted-senders", "infer-requests-from", "organizer-calendars"])
        var trusted: Set<String> = []
        for (index, text) in try reader.strings("trusted-senders").enumerated() {
            guard let mailbox = Mailbox(text) else {
                throw ConfigurationError(key: reader.key("trusted-senders[\(index)]"), problem: "'\(text)' is not a plain local@domain address")
            }
            guard localDomains.contains(mailbox.domain) else {
                throw ConfigurationError(
                    key: reader.key("trusted-senders[\(index)]"),
                    problem: "\(mailbox.text) is not in one of our domains: only our own CalDAV server's sender may be trusted")
            }
            trusted.insert(mailbox.text.lowercased())
        }
        var inferring: Set<String> = []
        for (index, text) in try reader.strings("infer-requests-from").enumerated() {
            guard let mailbox = Mailbox(text), trusted.contains(mailbox.text.lowercased()) else {
                throw ConfigurationError(
                    key: reader.key("infer-requests-from[\(index)]"), problem: "'\(text)' is not one of imip-intake.trusted-senders")
            }
            inferring.insert(mailbox.text.lowercased())
        }
        var organizerCalendars: CalDAVCalendars?
        if let section = try reader.section("organizer-calendars") {
            section.allowOnly(CalDAVCalendars.keys)
            let calendars = try CalDAVCalendars.parse(section, environment: environment, requireSecrets: requireSecrets, paths: paths)
            if localDomains.count > 1, let pattern = calendars.calendars.first(where: { !$0.contains("{address}") }) {
                throw ConfigurationError(
                    key: section.key("calendars"),
                    problem: "'\(pattern)' names the user by {user} alone, but there are \(localDomains.count) domains of ours: "
                        + "alice@one and alice@two would share one calendar; use {address}")
            }
            organizerCalendars = calendars
        } else if !inferring.isEmpty {
            throw ConfigurationError(
                key: reader.key("organizer-calendars"),
                problem: "missing (required by infer-requests-from: each calendar without METHOD is sent only as the organizer's own "
                    + "calendar holds it; the URLs of the organizers' calendars and an account that may read them)")
        }
        let url = try reader.requiredString("reinject-url")
        guard let parts = URLComponents(string: url), parts.scheme?.lowercased() == "smtp", parts.host?.isEmpty == false,
            parts.path.isEmpty || parts.path == "/"
        else {
            throw ConfigurationError(key: reader.key("reinject-url"), problem: "'\(url)' is not smtp://HOST[:PORT]")
        }
        return IMIPIntakeSettings(
            reinjectURL: url, trustedSenders: trusted, inferRequestsFrom: inferring, organizerCalendars: organizerCalendars)
    }

    /// The SMTP client of the re-injection service (the mail filter's and the queue worker's).
    func client(_ configuration: GatewayConfiguration, curl: CurlThread, resolver: DNSResolver) -> SMTPClient {
        SMTPClient(
            configuration: SMTPConfiguration(
                url: reinjectURL, startTLS: .optional, caFile: configuration.caFile,
                connectTimeoutMilliseconds: Int(configuration.timeouts.connect * 1000),
                totalTimeoutMilliseconds: Int(configuration.timeouts.remoteRequest * 1000)), thread: curl, resolver: resolver.hostResolver)
    }
}
