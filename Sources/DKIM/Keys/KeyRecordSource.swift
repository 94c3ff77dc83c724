/// Where one query method finds key records; DNS and HTTP sources live in the transport layer.
package protocol KeyRecordSource: Sendable {
    /// The key records published for `(domain, selector)`, in order; empty when there are none
    /// (NXDOMAIN, 404, no file). Throws only when the answer is unknown.
    func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String]

    /// The records and whether they are DNSSEC-secure (a trusted validator vouched for them).
    func securedKeyRecords(domain: String, selector: String) async throws(KeyLookupError) -> (records: [String], secure: Bool)
}

extension KeyRecordSource {
    /// Sources other than validated DNS are not DNSSEC-secure.
    package func securedKeyRecords(domain: String, selector: String) async throws(KeyLookupError) -> (records: [String], secure: Bool) {
        (try await keyRecords(domain: domain, selector: selector), false)
    }
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
