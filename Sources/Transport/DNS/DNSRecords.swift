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

/// Records of one type for one name, with the TTL to cache them by (the smallest of the set).
package struct DNSAnswer<Record: Sendable & Hashable>: Sendable, Hashable {
    package let records: [Record]
    package let ttl: UInt32

    package init(records: [Record], ttl: UInt32) {
        self.records = records
        self.ttl = ttl
    }
}

/// Why a lookup produced no records. NXDOMAIN and no-data are answers (cacheable, permanent for
/// now); server failure and timeout are not (retry later).
package enum DNSError: Error, Sendable, Hashable, CustomStringConvertible {
    case nameDoesNotExist(String)
    case noData(String)
    case serverFailure(String, rcode: Int)
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

    package var isTemporary: Bool {
        switch self {
        case .serverFailure, .timeout: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .nameDoesNotExist(let name): "\(name): no such name (NXDOMAIN)"
        case .noData(let name): "\(name): no records of the requested type"
        case .serverFailure(let name, let rcode): "\(name): DNS server failure (rcode \(rcode))"
        case .timeout(let name): "\(name): no DNS server answered in time"
        case .malformedResponse(let name, let reason): "\(name): malformed DNS response (\(reason))"
        case .invalidName(let name): "'\(name)' is not a DNS name"
        }
    }
}
