internal import DKIM
internal import Foundation
internal import ISchedule
internal import Transport

/// Where the mail filter finds an organizer's own copy of an event (`OrganizerCopy`).
protocol OrganizerCopies: Sendable {
    /// The objects of `organizer`'s calendars whose UID contains `uid`.
    func copies(uid: String, of organizer: Mailbox) async -> OrganizerCopyLookup
}

enum OrganizerCopyLookup: Sendable, Equatable {
    /// What the calendars hold (nothing, when none has it or the organizer has none).
    case found([[UInt8]])
    /// The server could not say now (down, refused the account, an unreadable answer): the
    /// message waits at the MTA and is tried again.
    case unavailable(String)
}

/// `imip-intake.organizer-calendars`: a calendar-query REPORT for the UID in each of the
/// organizer's calendars, as the service account (read access to every user's calendars). What
/// a user could cause by the UID they chose (an answer over the client's size limit, one the
/// server refuses, one that is not a multistatus) is "no copy": the mail goes as it is, instead
/// of the MTA retrying it for days. Only a server that is down, slow or refuses the account
/// (401) makes the message wait.
struct CalDAVOrganizerCopies: OrganizerCopies {
    let account: CalDAVCalendars
    let client: HTTPClient

    func copies(uid: String, of organizer: Mailbox) async -> OrganizerCopyLookup {
        guard let urls = account.calendarURLs(for: organizer) else { return .found([]) }
        var found: [[UInt8]] = []
        for url in urls {
            let request = HTTPClientRequest(
                method: "REPORT", url: url, headers: account.reportHeaders, body: OrganizerCopy.query(uid: uid), addressPolicy: .any)
            let response: HTTPClientResponse
            switch await Result(awaiting: { () async throws(HTTPClientError) -> HTTPClientResponse in try await client.send(request) }) {
            case .failure(.responseTooLarge): return .found([])
            case .failure(let error): return .unavailable("calendar-query to \(url) failed: \(error)")
            case .success(let answer): response = answer
            }
            if response.status == 401 { return .unavailable("calendar-query to \(url) refused the account (HTTP 401)") }
            if response.status >= 500 { return .unavailable("calendar-query to \(url) answered HTTP \(response.status)") }
            guard response.status == 207, let objects = try? OrganizerCopy.calendars(inMultistatus: response.body) else { continue }
            found += objects
        }
        return .found(found)
    }
}
