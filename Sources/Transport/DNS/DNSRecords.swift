/// A service record (RFC 2782).
package struct SRVRecord: Sendable, Hashable, CustomStringConvertible {
    package let priority: UInt16
    package let weight: UInt16
    package let port: UInt16
    /// Target host name without the trailing dot; `.` (empty) means "no service".
    package let target: String

    package init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }

    package var description: String { "\(priority) \(weight) \(port) \(target.isEmpty ? "." : target + ".")" }
}

/// A TLSA record (RFC 6698): which certificate (usage), which part of it (selector) and how it
/// is compared (matching type) with `data`.
package struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    package let usage: UInt8
    package let selector: UInt8
    package let matchingType: UInt8
    package let data: [UInt8]

    package init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1), matching Full(0), SHA2-256(1) or
    /// SHA2-512(2): the records RFC 7672 §3.1 and RFC 7673 let a client use. PKIX-TA(0) and
    /// PKIX-EE(1) are not (RFC 7672 §3.1.3).
    /// A digest must have its algorithm's length (32 or 64 octets).
    package var isUsable: Bool {
        guard (2...3).contains(usage), selector <= 1, !data.isEmpty else { return false }
        switch matchingType {
        case 0: return true
        case 1: return data.count == 32
        case 2: return data.count == 64
        default: return false
        }
    }

    package var description: String {
        "\(usage) \(selector) \(matchingType) " + data.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}

/// Records of one type for one name, with the TTL to cache them by (the smallest of the set).
/// `secure` when a trusted validating resolver vouched for the answer (the AD bit under
/// `dns.dnssec: validate`); always false otherwise.
package struct DNSAnswer<Record: Sendable & Hashable>: Sendable, Hashable {
    package let records: [Record]
    package let ttl: UInt32
    package let secure: Bool

    package init(records: [Record], ttl: UInt32, secure: Bool = false) {
        self.records = records
        self.ttl = ttl
        self.secure = secure
    }
}

/// Why a lookup produced no records. NXDOMAIN and no-data are answers (cacheable, permanent for
/// now); server failure and timeout are not (retry later).
package enum DNSError: Error, Sendable, Hashable, CustomStringConvertible {
    case nameDoesNotExist(String)
    case noData(String)
    case serverFailure(String, rcode: Int)
    /// The validator refused the answer: SERVFAIL with a DNSSEC Extended DNS Error (RFC 8914
    /// codes 6–12: bogus, signature expired or not yet valid, keys, signatures or NSEC missing).
    /// Temporary, and a sign of forgery: never a reason to send another way.
    case bogus(String, ede: Int)
    case timeout(String)
    case malformedResponse(String, reason: String)
    case invalidName(String)

    /// An answer that nothing is published there (NXDOMAIN or no records of the type), as opposed
    /// to a failure to find out.
    package var meansNoRecords: Bool {
        switch self {
        case .nameDoesNotExist, .noData: true
        default: false
        }
    }

    /// The server answered SERVFAIL (a bogus answer included).
    package var isServerFailure: Bool {
        switch self {
        case .serverFailure, .bogus: true
        default: false
        }
    }

    package var isTemporary: Bool {
        switch self {
        case .serverFailure, .timeout, .bogus: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .nameDoesNotExist(let name): "\(name): no such name (NXDOMAIN)"
        case .noData(let name): "\(name): no records of the requested type"
        case .serverFailure(let name, let rcode): "\(name): DNS server failure (rcode \(rcode))"
        case .bogus(let name, let ede): "\(name): DNS server failure: DNSSEC validation failed (bogus, extended DNS error \(ede))"
        case .timeout(let name): "\(name): no DNS server answered in time"
        case .malformedResponse(let name, let reason): "\(name): malformed DNS response (\(reason))"
        case .invalidName(let name): "'\(name)' is not a DNS name"
        }
    }
}
