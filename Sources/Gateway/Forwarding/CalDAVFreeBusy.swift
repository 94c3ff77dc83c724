internal import DKIM
internal import Foundation
internal import ISchedule
internal import Logging
internal import Transport

/// Answers VFREEBUSY requests for the users of our domains configured with `free-busy:` (their
/// CalDAV server has no iSchedule) from that server: a `free-busy-query` REPORT on each of the
/// user's calendars as the service account, within `timeouts.free-busy`, only for the remote
/// domains allowed to ask. The asker gets a VFREEBUSY REPLY with the busy periods and nothing
/// else the server holds. Each domain's server is asked at most `free-busy.connections` REPORTs
/// at once, one asking partner domain at most half of them (`FairShare`).
struct CalDAVFreeBusy: Sendable {
    let client: HTTPClient
    let clock: GatewayClock
    let logger: Logger
    /// How long a request's REPORTs may take, waiting for a slot included (`timeouts.free-busy`).
    let timeout: Duration
    /// Our domain → the share of its CalDAV server.
    let shares: [String: FairShare]

    init(client: HTTPClient, domains: [GatewayConfiguration.LocalDomain], timeout: Duration, clock: GatewayClock, logger: Logger) {
        self.client = client
        self.clock = clock
        self.logger = logger
        self.timeout = timeout
        shares = Dictionary(
            domains.compactMap { domain in
                domain.freeBusy.map { (domain.name, FairShare(total: $0.connections, perKey: max(1, $0.connections / 2))) }
            }, uniquingKeysWith: { first, _ in first })
    }

    /// - Parameter domains: our domains by name (their `free-busy` settings).
    func answer(_ request: ScheduleRequest, indices: [Int], domains: [String: GatewayConfiguration.LocalDomain]) async -> RecipientAnswers {
        let recipients = request.head.recipients
        let asker = request.head.originator.domain ?? ""
        return await withTaskGroup(of: (Int, ScheduleResponse.Item).self) { group in
            for index in indices {
                let recipient = recipients[index]
                group.addTask {
                    let outcome: (RequestStatus, String, [UInt8]?)
                    if let address = recipient.address, let domain = address.domain, let settings = domains[domain]?.freeBusy {
                        if !settings.allows(asker) {
                            outcome = (.noAuthority, "\(asker) may not ask for free/busy here (free-busy.allow-from)", nil)
                        } else if let share = self.shares[domain] {
                            outcome =
                                await share.run(asker, waitingAtMost: self.timeout) {
                                    await self.periods(of: address, settings: settings, request: request.message)
                                } ?? (.serviceUnavailable, "the calendar server is busy with other requests; ask again later", nil)
                        } else {
                            outcome = await self.periods(of: address, settings: settings, request: request.message)
                        }
                    } else {
                        outcome = (.invalidCalendarUser, "not a calendar user hosted here", nil)
                    }
                    let (status, description, reply) = outcome
                    return (
                        index,
                        ScheduleResponse.Item(
                            recipient: recipient.text, requestStatus: status,
                            calendarData: reply.map { String(decoding: $0, as: UTF8.self) },
                            calendarDataContentType: reply == nil ? nil : "text/calendar",
                            responseDescription: description)
                    )
                }
            }
            var answers = RecipientAnswers(recipients: recipients)
            for await (index, item) in group { answers.answer(index, with: item) }
            return answers
        }
    }

    /// The user's busy periods from every configured calendar, as a REPLY; a user none of whose
    /// calendars exists (404) is unknown (3.7); a refusal (401, 403: DAViCal's answer for users it
    /// does not have too, so as not to reveal them) is 3.8; any other failure is 5.1 (the asker
    /// may try again).
    private func periods(
        of address: CalendarUserAddress, settings: FreeBusySettings,
        request message: ITIPMessage
    ) async -> (RequestStatus, String, [UInt8]?) {
        guard let range = message.freeBusyRange else { return (.serviceCannotHandle, "the request has no DTSTART/DTEND", nil) }
        guard let mailbox = address.mailbox, let urls = settings.calendarURLs(for: mailbox) else {
            return (.invalidCalendarUser, "not a calendar user hosted here", nil)
        }
        let headers = settings.account.reportHeaders
        var periods: [FreeBusyReply.Period] = []
        var found = false
        for url in urls {
            let result: Result<HTTPClientResponse, HTTPClientError>
            do {
                result = .success(
                    try await client.send(
                        HTTPClientRequest(
                            method: "REPORT", url: url, headers: headers,
                            body: FreeBusyReply.queryBody(start: range.start, end: range.end),
                            addressPolicy: .any)))
            } catch {
                result = .failure(error)
            }
            let response: HTTPClientResponse
            switch result {
            case .failure(let error):
                logger.warning("free-busy-query to \(url) failed: \(error)")
                return (.serviceUnavailable, "the calendar server did not answer", nil)
            case .success(let answer): response = answer
            }
            if response.status == 404 { continue }
            if response.status == 401 || response.status == 403 {
                logger.notice("free-busy-query to \(url) refused with HTTP \(response.status) (no such user, or the service account may not read it)")
                return (.noAuthority, "the calendar server refused to tell", nil)
            }
            guard response.status == 200 else {
                logger.warning("free-busy-query to \(url) answered HTTP \(response.status)")
                return (.serviceUnavailable, "the calendar server answered HTTP \(response.status)", nil)
            }
            switch Result(catching: { () throws(IScheduleError) -> [FreeBusyReply.Period] in try FreeBusyReply.busyPeriods(in: response.body) }) {
            case .success(let more): periods += more
            case .failure(let error):
                logger.warning("free-busy-query to \(url): \(error)")
                return (.serviceUnavailable, "the calendar server's answer was unreadable", nil)
            }
            found = true
        }
        guard found else { return (.invalidCalendarUser, "no calendar for this user", nil) }
        let reply = FreeBusyReply.reply(to: message, attendee: address.canonical, periods: periods, stamp: Self.stamp(clock.seconds))
        return (.success, "busy time from the calendar server", reply)
    }

    /// `seconds` as an iCalendar UTC date-time.
    static func stamp(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
