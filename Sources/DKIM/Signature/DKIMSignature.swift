/// A parsed DKIM-Signature header value (RFC 6376 §3.5 with the iSchedule rules of the
/// protocol reference §7.1). Parsing checks syntax; `check(policy:now:)` applies policy and time.
package struct DKIMSignature: Sendable, Equatable {
    package let rawValue: String
    package let tags: TagList
    package let algorithm: SigningAlgorithm
    package let canonicalization: Canonicalization
    package let domain: String
    package let selector: String
    package let signedHeaders: [String]
    package let queryMethods: [KeyQueryMethod]
    package let timestamp: Int64?
    package let expiration: Int64?
    package let bodyLength: Int?
    /// `b=` and `bh=` with folding whitespace removed, still base64.
    package let signatureBase64: String
    package let bodyHashBase64: String

    package static let fieldName = "DKIM-Signature"

    package init(parsing value: String) throws(DKIMFailure) {
        let tags: TagList
        do { tags = try TagList(parsing: value) } catch { throw .malformedSignature(error) }
        // One pass over the tags instead of a lookup per name.
        var v: String?
        var a: String?
        var b: String?
        var bh: String?
        var c: String?
        var d: String?
        var h: String?
        var q: String?
        var s: String?
        var t: String?
        var x: String?
        var l: String?
        for tag in tags.tags {
            switch tag.name {
            case "v": v = tag.value
            case "a": a = tag.value
            case "b": b = tag.value
            case "bh": bh = tag.value
            case "c": c = tag.value
            case "d": d = tag.value
            case "h": h = tag.value
            case "q": q = tag.value
            case "s": s = tag.value
            case "t": t = tag.value
            case "x": x = tag.value
            case "l": l = tag.value
            default: continue
            }
        }
        guard let v else { throw .missingTag("v") }
        guard let a else { throw .missingTag("a") }
        guard let b else { throw .missingTag("b") }
        guard let bh else { throw .missingTag("bh") }
        guard let d else { throw .missingTag("d") }
        guard let h else { throw .missingTag("h") }
        guard let s else { throw .missingTag("s") }
        guard v == "1" else { throw .unsupportedVersion(v) }
        guard let algorithm = SigningAlgorithm(rawValue: a) ?? SigningAlgorithm(rawValue: a.lowercased()) else {
            throw .unsupportedAlgorithm(a)
        }
        // RFC 6376 §3.5: an absent c= means simple/simple.
        let canonicalizationText = c ?? "simple/simple"
        guard
            let canonicalization = Canonicalization(tagValue: canonicalizationText)
                ?? Canonicalization(tagValue: canonicalizationText.lowercased())
        else {
            throw .unsupportedCanonicalization(canonicalizationText)
        }
        var methods: [KeyQueryMethod] = []
        for item in ASCII.split(q ?? KeyQueryMethod.dnsTXT.rawValue, separator: UInt8(ascii: ":")) {
            let name = String(ASCII.trimmingWhitespace(item))
            guard let method = KeyQueryMethod(rawValue: name) ?? KeyQueryMethod(rawValue: name.lowercased()) else {
                throw .unsupportedQueryMethod(name)
            }
            if !methods.contains(method) { methods.append(method) }
        }
        guard DNSName.isValidDomain(d) else { throw .invalidTagValue(tag: "d", value: d, reason: "not a domain name") }
        guard DNSName.isValidSelector(s) else {
            throw .invalidTagValue(tag: "s", value: s, reason: "not a selector (dot-separated DNS labels)")
        }
        let headerNames = ASCII.split(h, separator: UInt8(ascii: ":")).map { String(ASCII.trimmingWhitespace($0)) }
        guard headerNames.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(HTTPSyntax.isTokenCharacter) }) else {
            throw .invalidTagValue(tag: "h", value: h, reason: "not a colon-separated list of header names")
        }
        let timestamp = try Self.number(t, "t")
        let expiration = try Self.number(x, "x")
        if let timestamp, let expiration, expiration <= timestamp {
            throw .expiryNotAfterTimestamp(t: timestamp, x: expiration)
        }
        let length = try Self.number(l, "l")
        let domain = d
        let selector = s
        self.rawValue = value
        self.tags = tags
        self.algorithm = algorithm
        self.canonicalization = canonicalization
        self.domain = domain.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? domain.lowercased() : domain
        self.selector = selector
        self.signedHeaders = headerNames
        self.queryMethods = methods
        self.timestamp = timestamp
        self.expiration = expiration
        self.bodyLength = length.map { Int($0) }
        self.signatureBase64 = ASCII.removingWhitespace(b)
        self.bodyHashBase64 = ASCII.removingWhitespace(bh)
    }

    private static func number(_ text: String?, _ name: String) throws(DKIMFailure) -> Int64? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let number = Int64(text)
        else { throw .invalidTagValue(tag: name, value: text, reason: "not an unsigned decimal of at most 12 digits") }
        return number
    }

    /// Policy and clock checks: accepted algorithm and canonicalization, `t=` not beyond the
    /// allowed skew into the future, `x=` not passed.
    package func check(policy: VerificationPolicy, now: Int64) throws(DKIMFailure) {
        guard policy.acceptedAlgorithms.contains(algorithm) else { throw .algorithmNotAccepted(algorithm) }
        guard policy.acceptedHeaderCanonicalizations.contains(canonicalization.header),
            policy.acceptedBodyCanonicalizations.contains(canonicalization.body)
        else { throw .canonicalizationNotAccepted(canonicalization) }
        if let timestamp, timestamp - now > policy.clockSkew {
            throw .timestampInFuture(t: timestamp, now: now, allowedSkew: policy.clockSkew)
        }
        if let expiration, now > expiration { throw .expired(x: expiration, now: now) }
        if let maximum = policy.maximumLifetime {
            switch (timestamp, expiration) {
            case (let t?, let x?) where x - t > maximum: throw .lifetimeTooLong(t: t, x: x, maximum: maximum)
            case (nil, let x?) where x - now > maximum: throw .lifetimeTooLong(t: now, x: x, maximum: maximum)
            case (let t?, nil) where now > t + maximum: throw .expired(x: t + maximum, now: now)
            case (nil, nil): throw .notTimeBounded
            default: break
            }
        }
    }

    /// When the signature stops being accepted under `policy`: `x=`, else `t=` plus the maximum
    /// lifetime; nil when nothing bounds it.
    package func effectiveExpiration(policy: VerificationPolicy) -> Int64? {
        expiration ?? policy.maximumLifetime.flatMap { maximum in timestamp.map { $0 + maximum } }
    }

    /// Whether `h=` lists `name` (case-insensitive).
    package func signs(_ name: String) -> Bool {
        signedHeaders.contains { ASCII.equalsIgnoringCase($0, name) }
    }

    /// The raw header value with the `b=` value removed, as it enters the signing input.
    var valueWithoutSignature: String {
        guard let range = tags.tag("b")?.valueRange else { return rawValue }
        var bytes = tags.source
        bytes.removeSubrange(range)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The single DKIM-Signature field of a request.
    package static func field(in headers: [HeaderField]) throws(DKIMFailure) -> HeaderField {
        guard let index = headers.firstIndex(where: { $0.hasName(fieldName) }) else { throw .signatureMissing }
        let count = headers[index...].count(named: fieldName)
        guard count == 1 else { throw .multipleSignatures(count: count) }
        return headers[index]
    }
}
