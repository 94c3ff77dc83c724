internal import Foundation

/// Verifies the DKIM signature of an iSchedule request (protocol reference §7.5): exactly one
/// signature, tag and policy checks, times against the injected clock, must-sign coverage,
/// `l=` and body hash, key lookup through the `q=` methods, then RSA.
package struct DKIMVerifier: Sendable {
    package let keys: KeyLocator
    package let policy: VerificationPolicy
    package let clock: any UnixClock

    package init(keys: KeyLocator, policy: VerificationPolicy = .iSchedule, clock: any UnixClock = SystemUnixClock()) {
        self.keys = keys
        self.policy = policy
        self.clock = clock
    }

    /// A signature that verified.
    package struct Verified: Sendable, Equatable {
        package let domain: String
        package let selector: String
        package let algorithm: SigningAlgorithm
        package let canonicalization: Canonicalization
        package let timestamp: Int64?
        package let expiration: Int64?
        /// `x=`, else `t=` plus the policy's maximum lifetime: how long a replay must be remembered.
        package let acceptedUntil: Int64?
        /// The `b=` value in canonical base64: what identifies this very signature (whitespace
        /// changes, or other spellings of the same bytes, do not make another one).
        package let signatureValue: String
        package let keyMethod: KeyQueryMethod
        package let keyBits: Int
        /// The key record says `t=y` (testing): the signature proves nothing yet.
        package let keyIsTesting: Bool
        /// The key record came from DNSSEC-validated DNS.
        package var keyIsDNSSECSecure = false
        /// `h=` as signed: only these headers are the sender's word.
        package let signedHeaders: [String]

        /// Whether `h=` covers `name` (the bottom instance of it).
        package func signs(_ name: String) -> Bool { signedHeaders.contains { ASCII.equalsIgnoringCase($0, name) } }
    }

    package func verify(_ request: HTTPRequestMessage) async throws(DKIMFailure) -> Verified {
        try await verify(headers: request.headers, body: request.body)
    }

    package func verify(headers: [HeaderField], body: [UInt8]) async throws(DKIMFailure) -> Verified {
        let field = try DKIMSignature.field(in: headers)
        let signature = try DKIMSignature(parsing: field.value)
        try signature.check(policy: policy, now: clock.now())
        var required = policy.requiredSignedHeaders
        if headers.contains(named: "Authorization") { required.append("Authorization") }
        for name in required where !signature.signs(name) { throw .requiredHeaderNotSigned(name) }
        // RFC 6376 canonicalizations select one instance per listing, from the bottom; the
        // iSchedule and simple-http ones merge every instance of a signed name into the signed text.
        let selectsInstances = [.relaxed, .simple].contains(signature.canonicalization.header)
        for name in policy.everyInstanceSigned where selectsInstances {
            let present = headers.filter { $0.hasName(name) }.count
            let signed = signature.signedHeaders.filter { ASCII.equalsIgnoringCase($0, name) }.count
            if present > signed { throw .headerInstanceNotSigned(name: name, present: present, signed: signed) }
        }

        let hash = signature.algorithm.hash
        let (bodyDigest, canonicalLength) = BodyCanonicalizer.hash(body, signature.canonicalization.body, using: hash)
        if let length = signature.bodyLength, length != canonicalLength {
            throw .bodyLengthMismatch(l: length, canonicalLength: canonicalLength)
        }
        let computed = Data(bodyDigest).base64EncodedString()
        guard computed == signature.bodyHashBase64 else {
            throw .bodyHashMismatch(expected: signature.bodyHashBase64, computed: computed)
        }

        let located = try await keys.locate(
            domain: signature.domain, selector: signature.selector,
            methods: signature.queryMethods, hash: hash,
            minimumBits: policy.minimumKeyBits)
        guard let signatureBytes = Data(base64Encoded: signature.signatureBase64) else {
            throw .invalidTagValue(tag: "b", value: signature.signatureBase64, reason: "not base64")
        }
        let text = SigningInput.headerText(headers: headers, signature: signature, signatureFieldName: field.name)
        guard located.key.isValidSignature(Array(signatureBytes), for: text, hash: hash) else {
            throw .signatureMismatch(domain: signature.domain, selector: signature.selector)
        }
        return Verified(
            domain: signature.domain, selector: signature.selector, algorithm: signature.algorithm,
            canonicalization: signature.canonicalization, timestamp: signature.timestamp,
            expiration: signature.expiration, acceptedUntil: signature.effectiveExpiration(policy: policy),
            // The decoded bytes, encoded again: base64 spellings of one signature (blanks,
            // the unused low bits before `=`) are one replay key.
            signatureValue: signatureBytes.base64EncodedString(), keyMethod: located.method,
            keyBits: located.key.bits, keyIsTesting: located.isTesting, keyIsDNSSECSecure: located.isDNSSECSecure,
            signedHeaders: signature.signedHeaders)
    }
}
