/// iTIP methods (RFC 5546, plus VPOLL's POLLSTATUS).
package enum ITIPMethod: String, Sendable, CaseIterable {
    case publish = "PUBLISH"
    case request = "REQUEST"
    case reply = "REPLY"
    case add = "ADD"
    case cancel = "CANCEL"
    case refresh = "REFRESH"
    case counter = "COUNTER"
    case declineCounter = "DECLINECOUNTER"
    case pollStatus = "POLLSTATUS"

    /// Who must be the Originator: the ORGANIZER, or the single replying ATTENDEE.
    package enum OriginatorRole: Sendable { case organizer, attendee }

    package var originatorRole: OriginatorRole {
        switch self {
        case .reply, .counter, .refresh: .attendee
        case .publish, .request, .add, .cancel, .declineCounter, .pollStatus: .organizer
        }
    }

    /// Methods RFC 5546 (and the VPOLL draft) define for each scheduling component.
    package static func allowed(for component: String) -> Set<ITIPMethod> {
        switch component {
        case "VEVENT", "VTODO": [.publish, .request, .reply, .add, .cancel, .refresh, .counter, .declineCounter]
        case "VJOURNAL": [.publish, .add, .cancel]
        case "VFREEBUSY": [.publish, .request, .reply]
        case "VPOLL": [.publish, .request, .reply, .cancel, .refresh, .pollStatus]
        default: []
        }
    }
}
