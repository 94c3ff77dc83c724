package import Transport

/// How a remote domain's receiver must be reached, modelled on Postfix's TLS security levels:
/// `tls-policy` under `outbound:` (the default for every domain) and `remote-domains.<d>:`.
package enum TLSPolicy: String, Sendable, Equatable, CaseIterable {
    /// https only (`_ischedules._tcp` or a configured https `uri`), the certificate verified
    /// against the CA file. A domain offering only plain `_ischedule._tcp` has no iSchedule for us.
    case verify
    /// Plain http `_ischedule._tcp` too (legacy peers), never chosen over an https record.
    case may
    /// https; where the SRV answer and the target's TLSA records are DNSSEC-validated, the
    /// certificate must match a TLSA record (RFC 7671/7673) and WebPKI plays no part; without
    /// secure TLSA, `verify`.
    case dane
    /// As `dane`, but a receiver without secure TLSA is not sent to.
    case daneOnly = "dane-only"

    /// Whether a receiver at `url` may be sent to under this policy.
    package func permits(_ url: String) -> Bool {
        self == .may || url.prefix(8).lowercased() == "https://"
    }

    /// Whether TLSA records are looked up (and then bind) for this policy.
    package var usesDANE: Bool { self == .dane || self == .daneOnly }

    /// The reason given (queue record, log, status) when a plaintext receiver is not used.
    package func plaintextRefused(_ detail: String) -> String {
        "plaintext iSchedule refused by tls-policy \(rawValue) (\(detail))"
    }

    /// The reason given when `dane-only` finds no receiver it can authenticate by DANE.
    package static func daneRequired(_ detail: String) -> String {
        "no DNSSEC-validated TLSA, which tls-policy dane-only requires (\(detail))"
    }

    /// How a signing domain's key server (`q=http/well-known`) is reached under this policy: the
    /// same rules as its receiver (plain http only under `may`, DANE under `dane`/`dane-only`).
    package var keyFetch: WellKnownKeyRecordSource.FetchPolicy {
        WellKnownKeyRecordSource.FetchPolicy(name: rawValue, allowsPlainHTTP: self == .may, usesDANE: usesDANE, requiresDANE: self == .daneOnly)
    }
}
