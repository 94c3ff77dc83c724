/// Syntax checks for `d=` domains and `s=` selectors. They matter beyond DNS: both end up in
/// file paths (private exchange) and URLs, so nothing but DNS labels may pass.
package enum DNSName {
    /// Dot-separated labels of letters, digits, `-` and `_`, each 1–63 octets, at most 253 in all.
    package static func isValidDomain(_ name: String) -> Bool {
        let count = name.utf8.count
        guard count > 0, count <= 253 else { return false }
        return name.utf8.withContiguousStorageIfAvailable(labels) ?? labels(Array(name.utf8))
    }

    /// A selector is a sub-domain: the same label rules.
    package static func isValidSelector(_ name: String) -> Bool {
        isValidDomain(name)
    }

    private static func labels(_ bytes: some Collection<UInt8>) -> Bool {
        var length = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard length > 0 else { return false }
                length = 0
                continue
            }
            guard isLabelCharacter(byte) else { return false }
            length += 1
            guard length <= 63 else { return false }
        }
        return length > 0
    }

    private static func isLabelCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
