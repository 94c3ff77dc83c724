/// Syntax checks for `d=` domains and `s=` selectors. They matter beyond DNS: both end up in
/// file paths (private exchange) and URLs, so nothing but DNS labels may pass.
public enum DNSName {
    /// Dot-separated labels of letters, digits, `-` and `_`, each 1–63 octets, at most 253 in all.
    public static func isValidDomain(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return labels(bytes)
    }

    /// A selector is a sub-domain: the same label rules.
    public static func isValidSelector(_ name: String) -> Bool {
        isValidDomain(name)
    }

    private static func labels(_ bytes: [UInt8]) -> Bool {
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.allSatisfy(isLabelCharacter) else { return false }
        }
        return true
    }

    private static func isLabelCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
