internal import Foundation

/// Signs iSchedule requests (protocol reference §7.4): `v=1`, `c=ischedule-relaxed/simple`,
/// `t`/`x`, `h=` listing each present must-sign header once, never Host, Content-Length or
/// Cache-Control. The header is emitted unfolded. For draft-01 receivers (DAViCal) the same
/// headers plus Host, `c=simple-http/simple` and `q=dns/txt` (see `IScheduleDialect`).
package struct DKIMSigner: Sendable {
    package let privateKey: RSAPrivateKey
    package let domain: String
    package let selector: String
    package let algorithm: SigningAlgorithm
    package let queryMethods: [KeyQueryMethod]
    /// Seconds from `t=` to `x=`.
    package let lifetime: Int64

    /// The headers signed when present, in this order (Apple's signer order).
    package static let signedHeaderOrder = [
        "Originator", "Recipient", "Authorization", "Content-Type", "User-Agent",
        "iSchedule-Version", "iSchedule-Message-ID"
    ]

    /// Headers a request must carry before it can be signed meaningfully.
    package static let requiredHeaders = ["Originator", "Recipient", "Content-Type"]

    package init(
        privateKey: RSAPrivateKey, domain: String, selector: String, algorithm: SigningAlgorithm = .rsaSHA256,
        queryMethods: [KeyQueryMethod] = [.dnsTXT], lifetime: Int64 = 3600
    ) throws(SigningError) {
        guard DNSName.isValidDomain(domain) else { throw .invalidDomain(domain) }
        guard DNSName.isValidSelector(selector) else { throw .invalidSelector(selector) }
        guard privateKey.bits >= 1024 else { throw .keyTooSmall(bits: privateKey.bits) }
        guard !queryMethods.isEmpty else { throw .noQueryMethods }
        guard lifetime > 0 else { throw .invalidLifetime(lifetime) }
        self.privateKey = privateKey
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.queryMethods = queryMethods
        self.lifetime = lifetime
    }

    /// What signing produced.
    package struct Signature: Sendable {
        /// The DKIM-Signature header value.
        package let headerValue: String
        /// The exact bytes that were signed (canonical headers plus the signature field).
        package let signedText: [UInt8]
    }

    /// Signs `request` in place: replaces any DKIM-Signature, adds `iSchedule-Version: 1.0`, an
    /// `iSchedule-Message-ID` (`messageID`, or a new UUID) and `Cache-Control: no-cache, no-transform`
    /// when absent, then appends the DKIM-Signature header last. A draft-01 request must carry the
    /// Host header it will be sent with, and a body already in `simple` form (one final CRLF):
    /// DAViCal hashes the body as sent.
    @discardableResult
    package func sign(
        _ request: inout HTTPRequestMessage, now: Int64, messageID: String? = nil,
        dialect: IScheduleDialect = .draft05
    ) throws(SigningError) -> Signature {
        for name in Self.requiredHeaders where !request.headers.contains(named: name) { throw .missingHeader(name) }
        if dialect == .draft01 {
            guard request.headers.contains(named: "Host") else { throw .missingHeader("Host") }
            guard BodyCanonicalizer.simpleContentEnd(request.body) + 2 == request.body.count else { throw .bodyNotCanonical }
        }
        request.headers.removeAll(named: DKIMSignature.fieldName)
        Self.addRequestHeaders(&request, messageID: messageID)
        let signed = (dialect == .draft01 ? ["Host"] : []) + Self.signedHeaderOrder.filter { request.headers.contains(named: $0) }
        let bodyHash = BodyCanonicalizer.hash(request.body, .simple, using: algorithm.hash).digest
        let query = dialect == .draft01 ? KeyQueryMethod.dnsTXT.rawValue : queryMethods.map(\.rawValue).joined(separator: ":")
        let canonicalization = dialect == .draft01 ? Canonicalization(header: .simpleHTTP, body: .simple) : Canonicalization.iSchedule
        let unsigned =
            "v=1; d=\(domain); s=\(selector); t=\(now); x=\(now + lifetime); a=\(algorithm.rawValue); "
            + "q=\(query); c=\(canonicalization); "
            + "h=\(signed.joined(separator: ":")); bh=\(Data(bodyHash).base64EncodedString()); b="
        let parsed: DKIMSignature
        do { parsed = try DKIMSignature(parsing: unsigned) } catch { throw .internalInconsistency(error.description) }
        let text = SigningInput.headerText(headers: request.headers, signature: parsed)
        let signature: [UInt8]
        do { signature = try privateKey.signature(for: text, hash: algorithm.hash) } catch { throw .crypto(error) }
        let value = unsigned + Data(signature).base64EncodedString()
        request.headers.append(HeaderField(name: DKIMSignature.fieldName, value: value))
        return Signature(headerValue: value, signedText: text)
    }
}

extension DKIMSigner {
    /// Adds what every iSchedule request carries, when absent: `iSchedule-Version: 1.0`, an
    /// `iSchedule-Message-ID` (`messageID`, or a new UUID) and `Cache-Control: no-cache,
    /// no-transform`. `sign` does this first; an unsigned request (TLS-only profile) needs it too.
    package static func addRequestHeaders(_ request: inout HTTPRequestMessage, messageID: String?) {
        if !request.headers.contains(named: "iSchedule-Version") {
            request.headers.append(HeaderField(name: "iSchedule-Version", value: "1.0"))
        }
        if !request.headers.contains(named: "iSchedule-Message-ID") {
            request.headers.append(HeaderField(name: "iSchedule-Message-ID", value: messageID ?? UUID().uuidString.lowercased()))
        }
        if !request.headers.contains(named: "Cache-Control") {
            request.headers.append(HeaderField(name: "Cache-Control", value: "no-cache, no-transform"))
        }
    }
}

/// Why a request could not be signed.
package enum SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidDomain(String)
    case invalidSelector(String)
    case keyTooSmall(bits: Int)
    case noQueryMethods
    case invalidLifetime(Int64)
    case missingHeader(String)
    case bodyNotCanonical
    case crypto(CryptoError)
    case internalInconsistency(String)

    package var description: String {
        switch self {
        case .invalidDomain(let d): "signing domain '\(d)' is not a domain name"
        case .invalidSelector(let s): "selector '\(s)' is not a DNS label sequence"
        case .keyTooSmall(let bits): "the private key has \(bits) bits; at least 1024 (better 2048) are required"
        case .noQueryMethods: "at least one key query method (q=) is required"
        case .invalidLifetime(let seconds): "signature lifetime must be positive, got \(seconds)"
        case .missingHeader(let name): "the request has no \(name) header"
        case .bodyNotCanonical: "a draft-01 request body must end with exactly one CRLF"
        case .crypto(let error): "signing failed: \(error)"
        case .internalInconsistency(let reason): "internal error building the signature: \(reason)"
        }
    }
}
