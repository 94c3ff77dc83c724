/// How a remote domain's receiver must be reached, modelled on Postfix's TLS security levels:
/// `tls-policy` under `outbound:` (the default for every domain) and `remote-domains.<d>:`.
package enum TLSPolicy: String, Sendable, Equatable, CaseIterable {
    /// https only (`_ischedules._tcp` or a configured https `uri`), the certificate verified
    /// against the CA file. A domain offering only plain `_ischedule._tcp` has no iSchedule for us.
    case verify
    /// Plain http `_ischedule._tcp` too (legacy peers), never chosen over an https record.
    case may

    /// Whether a receiver at `url` may be sent to under this policy.
    package func permits(_ url: String) -> Bool {
        self == .may || url.prefix(8).lowercased() == "https://"
    }

    /// The reason given (queue record, log, status) when a plaintext receiver is not used.
    package static func plaintextRefused(_ detail: String) -> String {
        "plaintext iSchedule refused by tls-policy verify (\(detail))"
    }
}
