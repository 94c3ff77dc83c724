/// ASCII helpers for protocol tokens (header names, tag values), free of allocation.
package enum ASCII {
    @inlinable
    package static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        if lhs == rhs { return true }
        let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in equalsIgnoringCase(left, right) }
        }
        if let result = fast ?? nil { return result }
        return equalsIgnoringCase(Array(lhs.utf8), Array(rhs.utf8))
    }

    @inlinable
    static func equalsIgnoringCase(_ left: some RandomAccessCollection<UInt8>, _ right: some RandomAccessCollection<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        var l = left.startIndex
        var r = right.startIndex
        while l != left.endIndex {
            let a = left[l]
            let b = right[r]
            if a != b {
                let lower = a | 0x20
                guard lower == b | 0x20, lower >= 0x61, lower <= 0x7A else { return false }
            }
            l = left.index(after: l)
            r = right.index(after: r)
        }
        return true
    }

    /// The text without leading and trailing SP, HT, CR and LF.
    @inlinable
    package static func trimmingWhitespace(_ text: some StringProtocol) -> Substring {
        let whole = Substring(text)
        let utf8 = whole.utf8
        guard let first = utf8.firstIndex(where: { !isWhitespace($0) }),
            let last = utf8.lastIndex(where: { !isWhitespace($0) })
        else { return whole[whole.endIndex...] }
        return whole[first...last]
    }

    /// The text with every SP, HT, CR and LF removed.
    @inlinable
    package static func removingWhitespace(_ text: String) -> String {
        let clean =
            text.utf8.withContiguousStorageIfAvailable { !$0.contains(where: isWhitespace) }
            ?? !text.utf8.contains(where: isWhitespace)
        if clean { return text }
        return String(decoding: text.utf8.filter { !isWhitespace($0) }, as: UTF8.self)
    }

    /// Splits at every `separator` byte (an ASCII character), keeping empty pieces; works on
    /// UTF-8 code units instead of Characters, which protocol tokens never need.
    @inlinable
    package static func split(_ text: String, separator: UInt8) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.utf8.startIndex
        var index = start
        while index != text.utf8.endIndex {
            if text.utf8[index] == separator {
                pieces.append(text[start..<index])
                start = text.utf8.index(after: index)
            }
            index = text.utf8.index(after: index)
        }
        pieces.append(text[start..<text.utf8.endIndex])
        return pieces
    }

    @inlinable
    package static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}
