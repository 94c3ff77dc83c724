/// Body canonicalization and the `bh=` body hash.
package enum BodyCanonicalizer {
    /// The canonical body bytes.
    package static func canonicalize(_ body: [UInt8], _ algorithm: BodyCanonicalization) -> [UInt8] {
        switch algorithm {
        case .simple:
            var out = Array(body[..<simpleContentEnd(body)])
            out += [0x0D, 0x0A]
            return out
        case .relaxed:
            return relaxed(body)
        }
    }

    /// Hash and length of the canonical body, without copying the body for `simple`.
    package static func hash(
        _ body: [UInt8], _ algorithm: BodyCanonicalization,
        using hash: HashAlgorithm
    ) -> (digest: [UInt8], length: Int) {
        var hasher = IncrementalHasher(hash)
        switch algorithm {
        case .simple:
            let end = simpleContentEnd(body)
            hasher.update(body[..<end])
            hasher.update([0x0D, 0x0A] as [UInt8])
            return (hasher.finalize(), end + 2)
        case .relaxed:
            let canonical = relaxed(body)
            hasher.update(canonical)
            return (hasher.finalize(), canonical.count)
        }
    }

    /// End of the body once every trailing CRLF is dropped (RFC 6376 §3.4.3).
    static func simpleContentEnd(_ body: [UInt8]) -> Int {
        var end = body.count
        while end >= 2 && body[end - 2] == 0x0D && body[end - 1] == 0x0A { end -= 2 }
        return end
    }

    /// RFC 6376 §3.4.4: blanks at line ends removed, inner blank runs collapsed to one SP, empty
    /// lines at the end removed, a non-empty result ends in CRLF; an empty body stays empty.
    static func relaxed(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 2)
        var lineStart = 0
        var pendingEmptyLines = 0
        while lineStart < body.count {
            var lineEnd = lineStart
            while lineEnd < body.count && !(body[lineEnd] == 0x0D && lineEnd + 1 < body.count && body[lineEnd + 1] == 0x0A) {
                lineEnd += 1
            }
            var line: [UInt8] = []
            var pendingSpace = false
            for byte in body[lineStart..<lineEnd] {
                if byte == 0x20 || byte == 0x09 {
                    pendingSpace = true
                } else {
                    if pendingSpace { line.append(0x20) }
                    pendingSpace = false
                    line.append(byte)
                }
            }
            if line.isEmpty {
                pendingEmptyLines += 1
            } else {
                for _ in 0..<pendingEmptyLines { out += [0x0D, 0x0A] }
                pendingEmptyLines = 0
                out += line
                out += [0x0D, 0x0A]
            }
            lineStart = lineEnd + 2
        }
        return out
    }
}
