/// The order in which to try SRV targets (RFC 2782): lowest priority first; within a priority, a
/// weighted random order where each remaining record is drawn with probability proportional to
/// its weight, weight-0 records placed first in the draw list so they are chosen only when the
/// random number is 0 (rarely, unless every weight is 0).
package enum SRVOrdering {
    package static func order(_ records: [SRVRecord], using generator: inout some RandomNumberGenerator) -> [SRVRecord] {
        var ordered: [SRVRecord] = []
        ordered.reserveCapacity(records.count)
        for priority in Set(records.map(\.priority)).sorted() {
            // "Any order, except weight-0 records first": shuffled, so all-zero groups are uniform.
            var remaining =
                records.filter { $0.priority == priority && $0.weight == 0 }.shuffled(using: &generator)
                + records.filter { $0.priority == priority && $0.weight > 0 }.shuffled(using: &generator)
            while !remaining.isEmpty {
                let total = remaining.reduce(0) { $0 + Int($1.weight) }
                let draw = Int.random(in: 0...total, using: &generator)
                var running = 0
                let index =
                    remaining.firstIndex { record in
                        running += Int(record.weight)
                        return running >= draw
                    } ?? remaining.count - 1
                ordered.append(remaining.remove(at: index))
            }
        }
        return ordered
    }

    package static func order(_ records: [SRVRecord]) -> [SRVRecord] {
        var generator = SystemRandomNumberGenerator()
        return order(records, using: &generator)
    }

    /// RFC 2782: a single record whose target is `.` means the service is decidedly not offered.
    package static func saysNoService(_ records: [SRVRecord]) -> Bool {
        records.count == 1 && records[0].target.isEmpty
    }
}
