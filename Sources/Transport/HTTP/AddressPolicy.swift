#if canImport(Glibc)
    import Glibc
#endif

/// Which peer addresses a request may connect to. Checked on the addresses a host name resolves to
/// before they are pinned for libcurl, again in libcurl's open-socket callback before any socket
/// exists, and before each request on a reused connection: a DNS name cannot smuggle in 127.0.0.1.
package enum AddressPolicy: Sendable, Equatable {
    /// Only globally routable unicast addresses: the default for anything a remote party names
    /// (receivers found by SRV, key URLs derived from a signature's `d=`).
    case publicOnly
    /// Any address: configured local upstreams, and tests on loopback.
    case any

    /// Why `address` (an IPv4 or IPv6 literal) is refused, or nil when it may be used.
    package func refusal(_ address: String) -> String? {
        guard self == .publicOnly else { return nil }
        guard let kind = AddressClass.classify(address) else { return "unparsable address \(address)" }
        return kind == .global ? nil : "\(address) is a \(kind.rawValue) address"
    }
}

/// RFC 6890 special-purpose ranges, as far as connecting to them matters.
enum AddressClass: String {
    case global, loopback
    case `private` = "private"
    case linkLocal = "link-local"
    case sharedCGNAT = "shared (CGNAT)"
    case unspecified, multicast, reserved, documentation

    static func classify(_ text: String) -> AddressClass? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return classify(v4: withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        return classify(v6: withUnsafeBytes(of: v6) { Array($0) })
    }

    static func classify(v4 b: [UInt8]) -> AddressClass {
        switch (b[0], b[1]) {
        case (0, _): return .unspecified
        case (10, _), (172, 16...31), (192, 168): return .private
        case (100, 64...127): return .sharedCGNAT
        case (127, _): return .loopback
        case (169, 254): return .linkLocal
        case (192, 0) where b[2] == 2, (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return .documentation
        case (198, 18...19): return .reserved
        case (224...239, _): return .multicast
        case (240...255, _): return .reserved
        default: return .global
        }
    }

    static func classify(v6 b: [UInt8]) -> AddressClass {
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b.prefix(15).allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
        if b.prefix(10).allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return classify(v4: Array(b.suffix(4))) }
        if b.prefix(4) == [0x00, 0x64, 0xFF, 0x9B] && b[4..<12].allSatisfy({ $0 == 0 }) { return classify(v4: Array(b.suffix(4))) }
        if b[0] & 0xFE == 0xFC { return .private }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return .linkLocal }
        if b[0] == 0xFF { return .multicast }
        if b.prefix(4) == [0x20, 0x01, 0x0D, 0xB8] { return .documentation }
        if b[0] & 0xE0 != 0x20 { return .reserved }  // only 2000::/3 is global unicast
        return .global
    }
}
