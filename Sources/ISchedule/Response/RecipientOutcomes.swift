/// Collects one answer per recipient of a request, from several sources (local checks, each
/// receiver or upstream), and emits them as one `schedule-response` in request order.
public struct RecipientOutcomes: Sendable {
    public let recipients: [ScheduleRequestHead.Recipient]
    private var items: [Int: ScheduleResponse.Item] = [:]

    public init(recipients: [ScheduleRequestHead.Recipient]) {
        self.recipients = recipients
    }

    /// Indices of recipients not answered yet.
    public var unanswered: [Int] { recipients.indices.filter { items[$0] == nil } }

    public func status(at index: Int) -> RequestStatus? { items[index]?.requestStatus }

    public mutating func answer(_ index: Int, _ status: RequestStatus, description: String? = nil,
                                error: (namespace: String, name: String)? = nil) {
        items[index] = ScheduleResponse.Item(recipient: recipients[index].text, requestStatus: status,
                                             error: error, responseDescription: description)
    }

    public mutating func answer(_ indices: [Int], _ status: RequestStatus, description: String? = nil) {
        for index in indices { answer(index, status, description: description) }
    }

    /// Takes each recipient's item from `response` (matched by address, answered in our spelling);
    /// a recipient the response leaves out gets 5.1 (protocol reference §5, check 26).
    public mutating func merge(_ response: ScheduleResponse, for indices: [Int], source: String) {
        for index in indices {
            if var item = response.item(for: recipients[index].text) {
                item.recipient = recipients[index].text
                items[index] = item
            } else {
                answer(index, .serviceUnavailable, description: "\(source) did not answer for this recipient")
            }
        }
    }

    /// The merged answer; recipients nobody answered get 5.0.
    public func response() -> ScheduleResponse {
        ScheduleResponse(items: recipients.indices.map { index in
            items[index] ?? ScheduleResponse.Item(recipient: recipients[index].text, requestStatus: .serviceCannotHandle,
                                                  responseDescription: "not processed")
        })
    }
}
