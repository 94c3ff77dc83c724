/// The `q=` key query methods iSchedule defines.
package enum KeyQueryMethod: String, Sendable, Hashable, CaseIterable {
    /// TXT record at `<s>._domainkey.<d>`.
    case dnsTXT = "dns/txt"
    /// `GET /.well-known/domainkey/<d>/<s>` answered as text/plain, one record per line.
    case httpWellKnown = "http/well-known"
    /// Records exchanged out of band and kept locally.
    case privateExchange = "private-exchange"
}

/// Names derived from `(d, s)` for each method (protocol reference §7.6).
package enum KeyLocation {
    /// `<s>._domainkey.<d>` for dns/txt.
    package static func dnsName(domain: String, selector: String) -> String {
        "\(selector)._domainkey.\(domain)"
    }

    /// The path part of the http/well-known URI.
    package static func wellKnownPath(domain: String, selector: String) -> String {
        "/.well-known/domainkey/\(domain)/\(selector)"
    }
}
