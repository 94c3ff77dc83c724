/// The `q=` key query methods iSchedule defines.
public enum KeyQueryMethod: String, Sendable, Hashable, CaseIterable {
    /// TXT record at `<s>._domainkey.<d>`.
    case dnsTXT = "dns/txt"
    /// `GET /.well-known/domainkey/<d>/<s>` answered as text/plain, one record per line.
    case httpWellKnown = "http/well-known"
    /// Records exchanged out of band and kept locally.
    case privateExchange = "private-exchange"
}

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

/// Names derived from `(d, s)` for each method (protocol reference §7.6).
public enum KeyLocation {
    /// `<s>._domainkey.<d>` for dns/txt.
    public static func dnsName(domain: String, selector: String) -> String {
        "\(selector)._domainkey.\(domain)"
    }

    /// The path part of the http/well-known URI.
    public static func wellKnownPath(domain: String, selector: String) -> String {
        "/.well-known/domainkey/\(domain)/\(selector)"
    }
}

/// The same records for every `(d, s)`: a key an administrator hands to the verifier directly
/// (the CLI's `--public-key` and `--key-record`).
public struct FixedKeyRecords: KeyRecordSource {
    public let records: [String]
    public init(records: [String]) { self.records = records }
    public func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] { records }
}
