/// What a verifier accepts beyond a mathematically valid signature.
package struct VerificationPolicy: Sendable, Equatable {
    /// How far in the future `t=` may lie (Apple: 360 s). Expiry (`x=`) is enforced exactly.
    package var clockSkew: Int64
    package var acceptedAlgorithms: Set<SigningAlgorithm>
    package var acceptedHeaderCanonicalizations: Set<HeaderCanonicalization>
    package var acceptedBodyCanonicalizations: Set<BodyCanonicalization>
    /// Header names `h=` must list (an `Authorization` header, when present, is always required too).
    package var requiredSignedHeaders: [String]
    /// Header names every instance of which `h=` must cover, listed as often as they occur, under
    /// the RFC 6376 canonicalizations (which pick instances from the bottom; the iSchedule ones
    /// sign every instance merged).
    package var everyInstanceSigned: [String] = ["Originator", "Recipient"]
    /// RSA keys below this size are refused (RFC 8301: 1024).
    package var minimumKeyBits: Int
    /// The longest a signature may be valid, in seconds: `x=` at most this after `t=`; a signature
    /// without `x=` expires this long after its `t=`, and one with neither is refused. Replays
    /// can then be remembered for as long as they could be accepted. Nil: unbounded.
    package var maximumLifetime: Int64?

    package init(
        clockSkew: Int64 = 360,
        acceptedAlgorithms: Set<SigningAlgorithm> = [.rsaSHA256],
        acceptedHeaderCanonicalizations: Set<HeaderCanonicalization> = [.ischeduleRelaxed],
        acceptedBodyCanonicalizations: Set<BodyCanonicalization> = [.simple],
        requiredSignedHeaders: [String] = VerificationPolicy.iScheduleRequiredHeaders,
        minimumKeyBits: Int = 1024, maximumLifetime: Int64? = 86_400
    ) {
        self.clockSkew = clockSkew
        self.acceptedAlgorithms = acceptedAlgorithms
        self.acceptedHeaderCanonicalizations = acceptedHeaderCanonicalizations
        self.acceptedBodyCanonicalizations = acceptedBodyCanonicalizations
        self.requiredSignedHeaders = requiredSignedHeaders
        self.minimumKeyBits = minimumKeyBits
        self.maximumLifetime = maximumLifetime
    }

    /// The must-sign set of draft-05 (protocol reference §7.2).
    package static let iScheduleRequiredHeaders = [
        "Originator", "Recipient", "Content-Type", "iSchedule-Version", "iSchedule-Message-ID"
    ]

    /// Draft-05 iSchedule: `ischedule-relaxed/simple` only, the full must-sign set, rsa-sha256 only
    /// (RFC 8301: verifiers must not accept rsa-sha1).
    package static let iSchedule = VerificationPolicy()

    /// For explicitly configured old peers (draft-01 DAViCal, `relaxed` senders): rsa-sha1 too,
    /// every canonicalization this engine verifies, and only the headers those peers sign.
    package static let legacyInterop = VerificationPolicy(
        acceptedAlgorithms: [.rsaSHA256, .rsaSHA1],
        acceptedHeaderCanonicalizations: Set(HeaderCanonicalization.allCases),
        acceptedBodyCanonicalizations: Set(BodyCanonicalization.allCases),
        requiredSignedHeaders: ["Originator", "Recipient", "Content-Type"]
    )
}
