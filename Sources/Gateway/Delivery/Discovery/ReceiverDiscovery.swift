import DKIM
package import Transport

/// Where a domain's iSchedule receiver is (protocol reference §2): a static override, else SRV
/// `_ischedules._tcp` (https), else SRV `_ischedule._tcp` (http, only where the domain's
/// `TLSPolicy` is `may`), else none. Never a guessed `https://<domain>/.well-known/ischedule`: no
/// SRV means no iSchedule.
package struct ReceiverDiscovery: Sendable {
    let resolver: DNSResolver
    /// Domain (lower case) → receiver URI, consulted before DNS.
    let overrides: [String: String]
    /// Domain (lower case) → its `tls-policy`, where it differs from `defaultPolicy`.
    let policies: [String: TLSPolicy]
    let defaultPolicy: TLSPolicy

    package init(
        resolver: DNSResolver, overrides: [String: String] = [:], policies: [String: TLSPolicy] = [:], defaultPolicy: TLSPolicy = .verify
    ) {
        self.resolver = resolver
        self.overrides = Dictionary(overrides.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.policies = Dictionary(policies.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.defaultPolicy = defaultPolicy
    }

    /// Whether answers are DNSSEC-validated (`dns.dnssec: validate`).
    package var validatesDNSSEC: Bool { resolver.configuration.validatesDNSSEC }

    /// The policy deliveries to `domain` follow.
    package func policy(for domain: String) -> TLSPolicy { policies[DNSResolver.normalize(domain)] ?? defaultPolicy }

    /// One place to try, in order.
    package struct Candidate: Sendable, Equatable, CustomStringConvertible {
        package enum Origin: Sendable, Equatable { case staticOverride, srvTLS, srvPlain }
        package let url: String
        package let origin: Origin
        package let srv: SRVRecord?
        /// The SRV answer was DNSSEC-validated.
        package var secure = false
        /// Under `dane`/`dane-only`: the validated TLSA records the receiver's certificate must
        /// match; nil means WebPKI verification (or plain http under `may`).
        package var dane: DANERequirement?

        package var description: String { url }
    }

    package enum Outcome: Sendable, Equatable {
        /// Receivers to try in this order (RFC 2782 for SRV; fail over down the list).
        case receivers([Candidate])
        /// The domain offers no iSchedule: hand its recipients to iMIP, or answer 5.3.
        case noISchedule(reason: String)
    }

    package static let wellKnownPath = "/.well-known/ischedule"

    /// - Throws: a temporary `DNSError` when DNS could not answer (retry later, do not fall back),
    ///   a bogus answer from the validator included.
    package func locate(domain rawDomain: String) async throws(DNSError) -> Outcome {
        var generator = SystemRandomNumberGenerator()
        return try await locate(domain: rawDomain, using: &generator)
    }

    func locate(domain rawDomain: String, using generator: inout some RandomNumberGenerator) async throws(DNSError) -> Outcome {
        let domain = DNSResolver.normalize(rawDomain)
        let policy = policy(for: domain)
        if let url = overrides[domain] {
            guard policy.permits(url) else { return .noISchedule(reason: policy.plaintextRefused("\(domain)'s receiver \(url) is http")) }
            return try await authenticated([Candidate(url: url, origin: .staticOverride, srv: nil)], domain: domain, policy: policy)
        }
        guard DNSName.isValidDomain(domain) else { throw .invalidName(rawDomain) }
        for (prefix, scheme, origin) in [
            ("_ischedules._tcp", "https", Candidate.Origin.srvTLS),
            ("_ischedule._tcp", "http", Candidate.Origin.srvPlain)
        ] {
            let answer = await Result { () async throws(DNSError) -> DNSAnswer<SRVRecord> in try await resolver.srv("\(prefix).\(domain)") }
            let found: DNSAnswer<SRVRecord>
            switch answer {
            case .success(let records): found = records
            case .failure(let error) where error.isTemporary: throw error
            case .failure: continue
            }
            // A lone "." is the domain saying "no service"; at _ischedules it also forbids a
            // downgrade to plain http.
            if SRVOrdering.saysNoService(found.records) {
                return .noISchedule(reason: "\(prefix).\(domain) publishes '.' (service not offered)")
            }
            let usable = found.records.filter { !$0.target.isEmpty && $0.port != 0 }
            guard !usable.isEmpty else { continue }
            guard origin == .srvTLS || policy == .may else {
                return .noISchedule(reason: policy.plaintextRefused("\(domain) publishes only \(prefix), plain http"))
            }
            let ordered = SRVOrdering.order(usable, using: &generator).map {
                Candidate(url: "\(scheme)://\($0.target):\($0.port)\(Self.wellKnownPath)", origin: origin, srv: $0, secure: found.secure)
            }
            return try await authenticated(ordered, domain: domain, policy: policy)
        }
        return .noISchedule(reason: "no _ischedules._tcp or _ischedule._tcp SRV records for \(domain)")
    }

    /// The candidates with their DANE requirements under `dane`/`dane-only` (RFC 7673 §3: TLSA
    /// only behind a validated SRV answer, at `_<port>._tcp.<target>`); `dane-only` keeps only
    /// those that have one.
    private func authenticated(_ candidates: [Candidate], domain: String, policy: TLSPolicy) async throws(DNSError) -> Outcome {
        guard policy.usesDANE else { return .receivers(candidates) }
        // A receiver whose TLSA lookup failed is skipped (RFC 7672 §2.2); only when every one failed
        // is the domain's delivery a temporary failure.
        var bound: [Candidate] = []
        var failure: DNSError?
        for var candidate in candidates {
            switch await Result(awaiting: { () async throws(DNSError) -> DANERequirement? in try await daneRequirement(for: candidate) }) {
            case .success(let requirement):
                candidate.dane = requirement
                bound.append(candidate)
            case .failure(let error): failure = failure ?? error
            }
        }
        if bound.isEmpty, let failure { throw failure }
        guard policy == .daneOnly else { return .receivers(bound) }
        let authenticated = bound.filter { $0.dane != nil }
        guard authenticated.isEmpty else { return .receivers(authenticated) }
        let why =
            candidates.contains { $0.origin != .staticOverride && !$0.secure }
            ? "the SRV answer for \(domain) is not DNSSEC-validated" : "none of \(domain)'s receivers has usable TLSA records"
        return .noISchedule(reason: TLSPolicy.daneRequired(why))
    }

    /// The validated TLSA records for `candidate`'s host and port, or nil: the SRV answer (for a
    /// configured receiver, the TLSA answer alone) not secure, no records, none usable.
    /// - Throws: temporary failures (a bogus TLSA answer is SERVFAIL from the validator).
    private func daneRequirement(for candidate: Candidate) async throws(DNSError) -> DANERequirement? {
        guard let (host, port) = DANERequirement.base(of: candidate.url), candidate.origin != .srvPlain else { return nil }
        guard candidate.secure || candidate.origin == .staticOverride else { return nil }
        return try await DANERequirement.lookup(host: host, port: port, resolver: resolver)
    }
}
