/// Where one query method finds key records; DNS and HTTP sources live in the transport layer.
public protocol KeyRecordSource: Sendable {
    /// The key records published for `(domain, selector)`, in order; empty when there are none
    /// (NXDOMAIN, 404, no file). Throws only when the answer is unknown.
    func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String]
}

/// A lookup that produced no answer.
public struct KeyLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    /// Timeouts, SERVFAIL, connection failures: the same lookup may succeed later.
    public let isTemporary: Bool

    public init(reason: String, isTemporary: Bool) {
        self.reason = reason
        self.isTemporary = isTemporary
    }

    public var description: String { reason }
}
