/// A parsed DKIM-Signature header value (RFC 6376 §3.5 with the iSchedule rules of the
/// protocol reference §7.1). Parsing checks syntax; `check(policy:now:)` applies policy and time.
public struct DKIMSignature: Sendable, Equatable {
    public let rawValue: String
    public let tags: TagList
    public let algorithm: SigningAlgorithm
    public let canonicalization: Canonicalization
    public let domain: String
    public let selector: String
    public let signedHeaders: [String]
    public let queryMethods: [KeyQueryMethod]
    public let timestamp: Int64?
    public let expiration: Int64?
    public let bodyLength: Int?
    /// `b=` and `bh=` with folding whitespace removed, still base64.
    public let signatureBase64: String
    public let bodyHashBase64: String

    public static let fieldName = "DKIM-Signature"

    public init(parsing value: String) throws(DKIMFailure) {
        let tags: TagList
        do { tags = try TagList(parsing: value) } catch { throw .malformedSignature(error) }
        for name in ["v", "a", "b", "bh", "d", "h", "s"] where tags[name] == nil { throw .missingTag(name) }
        guard tags["v"] == "1" else { throw .unsupportedVersion(tags["v"] ?? "") }
        guard let algorithm = SigningAlgorithm(rawValue: tags["a"]!.lowercased()) else {
            throw .unsupportedAlgorithm(tags["a"]!)
        }
        // RFC 6376 §3.5: an absent c= means simple/simple.
        let canonicalizationText = tags["c"] ?? "simple/simple"
        guard let canonicalization = Canonicalization(tagValue: canonicalizationText.lowercased()) else {
            throw .unsupportedCanonicalization(canonicalizationText)
        }
        var methods: [KeyQueryMethod] = []
        for item in (tags["q"] ?? KeyQueryMethod.dnsTXT.rawValue).split(separator: ":", omittingEmptySubsequences: false) {
            let name = item.trimming(TagSyntax.foldingWhitespace)
            guard let method = KeyQueryMethod(rawValue: name.lowercased()) else { throw .unsupportedQueryMethod(name) }
            if !methods.contains(method) { methods.append(method) }
        }
        let domain = tags["d"]!
        guard DNSName.isValidDomain(domain) else { throw .invalidTagValue(tag: "d", value: domain, reason: "not a domain name") }
        let selector = tags["s"]!
        guard DNSName.isValidSelector(selector) else {
            throw .invalidTagValue(tag: "s", value: selector, reason: "not a selector (dot-separated DNS labels)")
        }
        let headerNames = tags["h"]!.split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.trimming(TagSyntax.foldingWhitespace) }
        guard headerNames.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(HTTPSyntax.isTokenCharacter) }) else {
            throw .invalidTagValue(tag: "h", value: tags["h"]!, reason: "not a colon-separated list of header names")
        }
        let timestamp = try Self.number(tags, "t")
        let expiration = try Self.number(tags, "x")
        if let timestamp, let expiration, expiration <= timestamp {
            throw .expiryNotAfterTimestamp(t: timestamp, x: expiration)
        }
        let length = try Self.number(tags, "l")
        self.rawValue = value
        self.tags = tags
        self.algorithm = algorithm
        self.canonicalization = canonicalization
        self.domain = domain.lowercased()
        self.selector = selector
        self.signedHeaders = headerNames
        self.queryMethods = methods
        self.timestamp = timestamp
        self.expiration = expiration
        self.bodyLength = length.map { Int($0) }
        self.signatureBase64 = TagSyntax.removingFoldingWhitespace(tags["b"]!)
        self.bodyHashBase64 = TagSyntax.removingFoldingWhitespace(tags["bh"]!)
    }

    private static func number(_ tags: TagList, _ name: String) throws(DKIMFailure) -> Int64? {
        guard let text = tags[name] else { return nil }
        guard !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let number = Int64(text)
        else { throw .invalidTagValue(tag: name, value: text, reason: "not an unsigned decimal of at most 12 digits") }
        return number
    }

    /// Policy and clock checks: accepted algorithm and canonicalization, `t=` not beyond the
    /// allowed skew into the future, `x=` not passed.
    public func check(policy: VerificationPolicy, now: Int64) throws(DKIMFailure) {
        guard policy.acceptedAlgorithms.contains(algorithm) else { throw .algorithmNotAccepted(algorithm) }
        guard policy.acceptedHeaderCanonicalizations.contains(canonicalization.header),
              policy.acceptedBodyCanonicalizations.contains(canonicalization.body)
        else { throw .canonicalizationNotAccepted(canonicalization) }
        if let timestamp, timestamp - now > policy.clockSkew {
            throw .timestampInFuture(t: timestamp, now: now, allowedSkew: policy.clockSkew)
        }
        if let expiration, now > expiration { throw .expired(x: expiration, now: now) }
    }

    /// Whether `h=` lists `name` (case-insensitive).
    public func signs(_ name: String) -> Bool {
        signedHeaders.contains { $0.lowercased() == name.lowercased() }
    }

    /// The raw header value with the `b=` value removed, as it enters the signing input.
    var valueWithoutSignature: String {
        guard let range = tags.tag("b")?.valueRange else { return rawValue }
        var bytes = Array(rawValue.utf8)
        bytes.removeSubrange(range)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The single DKIM-Signature field of a request.
    public static func field(in headers: [HeaderField]) throws(DKIMFailure) -> HeaderField {
        let fields = headers.filter { $0.hasName(fieldName) }
        guard let field = fields.first else { throw .signatureMissing }
        guard fields.count == 1 else { throw .multipleSignatures(count: fields.count) }
        return field
    }
}

/// Small lexical helpers shared by tag values.
enum TagSyntax {
    static let foldingWhitespace: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]

    static func removingFoldingWhitespace(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") }))
    }
}
