/// One answer per recipient of a request, kept by the recipient's place in the request: filled in
/// by whoever answers (local checks, a transport, a receiver's or upstream's `schedule-response`),
/// merged from the parts that answered, and written as one `schedule-response` in request order.
/// Every answer names its recipient as the request spelled it.
package struct RecipientAnswers: Sendable, Sequence {
    /// One recipient's answer and its place in the request.
    package struct Answer: Sendable {
        package let index: Int
        package let item: ScheduleResponse.Item
        package var status: RequestStatus { item.requestStatus }
    }

    package let recipients: [ScheduleRequestHead.Recipient]
    private var items: [Int: ScheduleResponse.Item] = [:]
    /// Places whose failure was a security refusal (a certificate matching none of the receiver's
    /// validated TLSA records, a validator's SERVFAIL): retried, never handed to e-mail instead.
    package private(set) var heldForSecurity: Set<Int> = []

    package init(recipients: [ScheduleRequestHead.Recipient]) {
        self.recipients = recipients
    }

    /// The same status and description for every recipient in `indices`.
    package init(
        recipients: [ScheduleRequestHead.Recipient], _ indices: some Sequence<Int>, _ status: RequestStatus,
        _ description: String
    ) {
        self.recipients = recipients
        answer(indices, status, description: description)
    }

    package var isEmpty: Bool { items.isEmpty }
    package var count: Int { items.count }
    /// The places answered, in request order.
    package var answered: [Int] { items.keys.sorted() }
    /// The places not answered yet, in request order.
    package var unanswered: [Int] { recipients.indices.filter { items[$0] == nil } }
    package subscript(index: Int) -> ScheduleResponse.Item? { items[index] }

    package func makeIterator() -> IndexingIterator<[Answer]> {
        answered.map { Answer(index: $0, item: items[$0]!) }.makeIterator()
    }

    package mutating func answer(
        _ index: Int, _ status: RequestStatus, description: String? = nil,
        error: (namespace: String, name: String)? = nil
    ) {
        items[index] = ScheduleResponse.Item(
            recipient: recipients[index].text, requestStatus: status,
            error: error, responseDescription: description)
    }

    package mutating func answer(_ indices: some Sequence<Int>, _ status: RequestStatus, description: String? = nil) {
        for index in indices { answer(index, status, description: description) }
    }

    /// `item` as the answer at `index` (named as the request spelled the recipient).
    package mutating func answer(_ index: Int, with item: ScheduleResponse.Item) {
        var item = item
        item.recipient = recipients[index].text
        items[index] = item
    }

    /// `other`'s answer at `index`, its security hold included.
    package mutating func take(_ index: Int, from other: RecipientAnswers) {
        guard let item = other.items[index] else { return }
        items[index] = item
        if other.heldForSecurity.contains(index) { heldForSecurity.insert(index) } else { heldForSecurity.remove(index) }
    }

    /// Marks `indices` as refused for security (see `heldForSecurity`).
    package mutating func holdForSecurity(_ indices: some Sequence<Int>) {
        heldForSecurity.formUnion(indices)
    }

    /// Takes each recipient's item from `response` (matched by address, answered in our spelling);
    /// a recipient the response leaves out gets 5.1 (protocol reference §5, check 26).
    package mutating func merge(_ response: ScheduleResponse, for indices: some Sequence<Int>, source: String) {
        for index in indices {
            if let item = response.item(for: recipients[index].text) {
                answer(index, with: item)
            } else {
                answer(index, .serviceUnavailable, description: "\(source) did not answer for this recipient")
            }
        }
    }

    /// Takes every answer `other` (a part of the same request) gives, over any given here.
    package mutating func merge(_ other: RecipientAnswers) {
        for index in other.items.keys { take(index, from: other) }
    }

    /// The answers of `self` and `other` together, `other`'s where both answer.
    package func merging(_ other: RecipientAnswers) -> RecipientAnswers {
        var merged = self
        merged.merge(other)
        return merged
    }

    /// Only the answers for `indices`.
    package func restricted(to indices: some Sequence<Int>) -> RecipientAnswers {
        var part = RecipientAnswers(recipients: recipients)
        for index in indices {
            part.items[index] = items[index]
            if heldForSecurity.contains(index) { part.heldForSecurity.insert(index) }
        }
        return part
    }

    /// The whole answer, in request order; recipients nobody answered get 5.0.
    package func response() -> ScheduleResponse {
        ScheduleResponse(
            items: recipients.indices.map { index in
                items[index]
                    ?? ScheduleResponse.Item(
                        recipient: recipients[index].text, requestStatus: .serviceCannotHandle,
                        responseDescription: "not processed")
            })
    }
}
