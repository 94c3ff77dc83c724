/// A short stable token for a text (FNV-1a, 64 bits, in hex): not a cryptographic hash, only a
/// compact name for a recipient or a recipient set.
enum Fingerprint {
    static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
