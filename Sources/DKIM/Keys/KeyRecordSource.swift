/// Where one query method finds key records; DNS and HTTP sources live in the transport layer.
package protocol KeyRecordSource: Sendable {
    /// The key records published for `(domain, selector)`, in order; empty when there are none
    /// (NXDOMAIN, 404, no file). Throws only when the answer is unknown.
    func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String]
}

/// A lookup that produced no answer.
package struct KeyLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    package let reason: String
    /// Timeouts, SERVFAIL, connection failures: the same lookup may succeed later.
    package let isTemporary: Bool

    package init(reason: String, isTemporary: Bool) {
        self.reason = reason
        self.isTemporary = isTemporary
    }

    package var description: String { reason }
}
