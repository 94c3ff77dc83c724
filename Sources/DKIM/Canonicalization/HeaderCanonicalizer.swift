/// Header canonicalization: turns received header fields into the bytes DKIM hashes.
package enum HeaderCanonicalizer {
    /// `ischedule-relaxed` of one header name: every value joined with `,`, whitespace runs
    /// (SP, HT, CR, LF, VT, FF) collapsed to one SP and trimmed, blanks beside commas deleted;
    /// emitted as `name:value` CRLF with the name in lower case.
    package static func ischeduleRelaxed(name: String, values: [String]) -> [UInt8] {
        var out: [UInt8] = []
        appendISchedulRelaxed(name: name, values: values, to: &out)
        return out
    }

    /// The common case of one field instance, without building a list.
    static func appendISchedulRelaxed(name: String, value: String, to out: inout [UInt8]) {
        guard isCanonical(value) else { return appendISchedulRelaxed(name: name, values: [value], to: &out) }
        appendLowercased(name, to: &out)
        out.append(UInt8(ascii: ":"))
        out += value.utf8
        out += [0x0D, 0x0A]
    }

    static func appendISchedulRelaxed(name: String, values: [String], to out: inout [UInt8]) {
        appendLowercased(name, to: &out)
        out.append(UInt8(ascii: ":"))
        var state = CollapseState()
        for (index, value) in values.enumerated() {
            if index > 0 { state.append(UInt8(ascii: ","), to: &out) }
            for byte in value.utf8 { state.append(byte, to: &out) }
        }
        out += [0x0D, 0x0A]
    }

    /// Whether `ischedule-relaxed` leaves `value` unchanged: no whitespace but single SPs between
    /// other characters, none beside a comma. Clean senders' values pass, and are copied whole.
    static func isCanonical(_ value: String) -> Bool {
        var scanner = CanonicalScanner()
        let fed = value.utf8.withContiguousStorageIfAvailable { scanner.feed($0) } ?? scanner.feed(value.utf8)
        return fed && scanner.finished
    }

    /// Checks canonical form across consecutive pieces of one value.
    struct CanonicalScanner {
        private var previous: UInt8 = 0x20  // the start counts as a blank: a leading SP is not canonical
        private var empty = true

        /// False as soon as a byte shows the value is not canonical.
        mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
            for byte in bytes {
                switch byte {
                case 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return false
                case 0x20: if previous == 0x20 || previous == UInt8(ascii: ",") { return false }
                case UInt8(ascii: ","): if previous == 0x20 { return false }
                default: break
                }
                previous = byte
                empty = false
            }
            return true
        }

        /// True when the value does not end in a blank.
        var finished: Bool { empty || previous != 0x20 }
    }

    /// Collapses whitespace and deletes blanks beside commas in a single pass.
    struct CollapseState {
        private var pendingSpace = false
        private var started = false
        private var lastWasComma = false

        mutating func append(_ byte: UInt8, to out: inout [UInt8]) {
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A, 0x0B, 0x0C:
                pendingSpace = started
            default:
                let isComma = byte == UInt8(ascii: ",")
                if pendingSpace && !isComma && !lastWasComma { out.append(0x20) }
                pendingSpace = false
                started = true
                lastWasComma = isComma
                out.append(byte)
            }
        }
    }

    /// RFC 6376 `relaxed` of one field: lower-case name, CRLF removed, SP/HT runs collapsed,
    /// blanks at both ends of the value removed.
    static func appendRelaxed(name: String, value: String, terminated: Bool, to out: inout [UInt8]) {
        appendLowercased(name, to: &out)
        out.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for byte in value.utf8 {
            switch byte {
            case 0x0D, 0x0A: continue
            case 0x20, 0x09: pendingSpace = started
            default:
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                started = true
                out.append(byte)
            }
        }
        if terminated { out += [0x0D, 0x0A] }
    }

    /// RFC 6376 `simple`: the field as received.
    static func appendSimple(name: String, value: String, terminated: Bool, to out: inout [UInt8]) {
        out += name.utf8
        out.append(UInt8(ascii: ":"))
        out += value.utf8
        if terminated { out += [0x0D, 0x0A] }
    }

    /// Draft-01 `simple-http` (DAViCal): `Name: value` with the name spelled as in `h=`.
    static func appendSimpleHTTP(name: String, value: String, terminated: Bool, to out: inout [UInt8]) {
        out += name.utf8
        out += [UInt8(ascii: ":"), 0x20]
        out += ASCII.trimmingWhitespace(value).utf8
        if terminated { out += [0x0D, 0x0A] }
    }

    /// `ischedule-relaxed` of the DKIM-Signature value without the bytes in `removed` (its `b=`
    /// value), no CRLF. The two remaining slices are streamed, never copied into a new string.
    static func appendISchedulRelaxedSignature(value: [UInt8], removing removed: Range<Int>?, to out: inout [UInt8]) {
        out += "dkim-signature:".utf8
        let head = value[..<(removed?.lowerBound ?? value.count)]
        let tail = value[(removed?.upperBound ?? value.count)...]
        var scanner = CanonicalScanner()
        if scanner.feed(head), scanner.feed(tail), scanner.finished {
            out += head
            out += tail
            return
        }
        var state = CollapseState()
        for byte in head { state.append(byte, to: &out) }
        for byte in tail { state.append(byte, to: &out) }
    }

    @inline(__always)
    static func appendLowercased(_ name: String, to out: inout [UInt8]) {
        for byte in name.utf8 {
            out.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
    }
}
