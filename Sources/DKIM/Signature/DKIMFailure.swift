/// Why a DKIM signature was not accepted: what failed and the values involved.
///
/// `isTemporary` separates failures a sender may retry (key lookup timed out, SERVFAIL) from
/// permanent ones (RFC 6376 §6.1: TEMPFAIL vs PERMFAIL).
package enum DKIMFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case signatureMissing
    case multipleSignatures(count: Int)
    case malformedSignature(TagListError)
    case missingTag(String)
    case unsupportedVersion(String)
    case unsupportedAlgorithm(String)
    case algorithmNotAccepted(SigningAlgorithm)
    case unsupportedCanonicalization(String)
    case canonicalizationNotAccepted(Canonicalization)
    case unsupportedQueryMethod(String)
    case invalidTagValue(tag: String, value: String, reason: String)
    case expiryNotAfterTimestamp(t: Int64, x: Int64)
    case requiredHeaderNotSigned(String)
    /// More instances of the header than `h=` lists: the extra ones (the top ones, RFC 6376
    /// §5.4.2) are not covered, and whoever holds the request could have added them (§8.15).
    case headerInstanceNotSigned(name: String, present: Int, signed: Int)
    case expired(x: Int64, now: Int64)
    case lifetimeTooLong(t: Int64, x: Int64, maximum: Int64)
    case notTimeBounded
    case timestampInFuture(t: Int64, now: Int64, allowedSkew: Int64)
    case bodyLengthMismatch(l: Int, canonicalLength: Int)
    case bodyHashMismatch(expected: String, computed: String)
    case keyNotFound(domain: String, selector: String, methods: [KeyQueryMethod])
    case keyLookupFailed(method: KeyQueryMethod, reason: String)
    case keyRevoked(domain: String, selector: String)
    case keyUnacceptable(domain: String, selector: String, reasons: [String])
    case keyTooSmall(bits: Int, minimum: Int)
    case signatureMismatch(domain: String, selector: String)

    /// True when the sender may retry later: the key could not be fetched right now.
    package var isTemporary: Bool {
        if case .keyLookupFailed = self { return true }
        return false
    }

    package var description: String {
        switch self {
        case .signatureMissing: "no DKIM-Signature header"
        case .multipleSignatures(let count): "\(count) DKIM-Signature headers; exactly one is allowed"
        case .malformedSignature(let error): "malformed DKIM-Signature: \(error)"
        case .missingTag(let tag): "DKIM-Signature has no \(tag)= tag"
        case .unsupportedVersion(let value): "unsupported v=\(value) (expected 1)"
        case .unsupportedAlgorithm(let value): "unsupported a=\(value) (expected rsa-sha256 or rsa-sha1)"
        case .algorithmNotAccepted(let algorithm): "a=\(algorithm.rawValue) is not accepted by policy"
        case .unsupportedCanonicalization(let value): "unsupported c=\(value)"
        case .canonicalizationNotAccepted(let value): "c=\(value) is not accepted by policy (iSchedule uses ischedule-relaxed/simple)"
        case .unsupportedQueryMethod(let value): "unsupported q= method '\(value)'"
        case .invalidTagValue(let tag, let value, let reason): "invalid \(tag)=\(value): \(reason)"
        case .expiryNotAfterTimestamp(let t, let x): "x=\(x) is not after t=\(t)"
        case .requiredHeaderNotSigned(let name): "h= does not cover the required header \(name)"
        case .headerInstanceNotSigned(let name, let present, let signed):
            "\(present) \(name) headers but h= covers \(signed): every instance must be signed"
        case .expired(let x, let now): "signature expired: x=\(x) is before now=\(now)"
        case .lifetimeTooLong(let t, let x, let maximum): "x=\(x) is more than \(maximum) s after t=\(t): signatures may live at most that long"
        case .notTimeBounded: "the signature has neither t= nor x=: nothing bounds how long it could be replayed"
        case .timestampInFuture(let t, let now, let skew):
            "signature timestamp t=\(t) is \(t - now) s in the future (now=\(now), allowed skew \(skew) s)"
        case .bodyLengthMismatch(let l, let length): "l=\(l) does not equal the canonical body length \(length)"
        case .bodyHashMismatch(let expected, let computed): "body hash mismatch: bh=\(expected), computed \(computed)"
        case .keyNotFound(let d, let s, let methods) where methods.isEmpty:
            "no public key for s=\(s) d=\(d): no key source is configured for the query methods its q= names"
        case .keyNotFound(let d, let s, let methods):
            "no public key for s=\(s) d=\(d) via \(methods.map(\.rawValue).joined(separator: ":"))"
        case .keyLookupFailed(let method, let reason): "temporary key lookup failure via \(method.rawValue): \(reason)"
        case .keyRevoked(let d, let s): "public key for s=\(s) d=\(d) is revoked (empty p=)"
        case .keyUnacceptable(let d, let s, let reasons):
            "no acceptable public key for s=\(s) d=\(d): \(reasons.joined(separator: "; "))"
        case .keyTooSmall(let bits, let minimum): "public key has \(bits) bits; at least \(minimum) are required"
        case .signatureMismatch(let d, let s): "signature does not verify with the public key for s=\(s) d=\(d)"
        }
    }
}
