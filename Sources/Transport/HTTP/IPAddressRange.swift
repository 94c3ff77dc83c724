#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 address or CIDR block (`127.0.0.1`, `::1`, `10.0.0.0/8`) for allow-lists.
/// IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`) match their IPv4 entries.
package struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    package let description: String
    private let bytes: [UInt8]
    private let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.parse(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefix = length
        }
        self.bytes = bytes
        self.prefixLength = prefix
        self.description = text
    }

    /// Whether the literal `address` lies in this range.
    package func contains(_ address: String) -> Bool {
        guard var candidate = Self.parse(address) else { return false }
        if candidate.count == 16, bytes.count == 4, candidate.prefix(10).allSatisfy({ $0 == 0 }),
            candidate[10] == 0xFF, candidate[11] == 0xFF
        {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == bytes.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(bytes, candidate) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if mine & mask != theirs & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// Whether every address of the range is a loopback address.
    package var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 && prefixLength >= 8 : prefixLength == 128 && AddressClass.classify(v6: bytes) == .loopback
    }

    /// Whether the literal `address` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x).
    package static func isLoopback(_ address: String) -> Bool { AddressClass.classify(address) == .loopback }

    private static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4.s_addr) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
