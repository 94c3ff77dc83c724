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

    /// The policy deliveries to `domain` follow.
    package func policy(for domain: String) -> TLSPolicy { policies[DNSResolver.normalize(domain)] ?? defaultPolicy }

    /// One place to try, in order.
    package struct Candidate: Sendable, Equatable, CustomStringConvertible {
        package enum Origin: Sendable, Equatable { case staticOverride, srvTLS, srvPlain }
        package let url: String
        package let origin: Origin
        package let srv: SRVRecord?

        package var description: String { url }
    }

    package enum Outcome: Sendable, Equatable {
        /// Receivers to try in this order (RFC 2782 for SRV; fail over down the list).
        case receivers([Candidate])
        /// The domain offers no iSchedule: hand its recipients to iMIP, or answer 5.3.
        case noISchedule(reason: String)
    }

    package static let wellKnownPath = "/.well-known/ischedule"

    /// - Throws: a temporary `DNSError` when DNS could not answer (retry later, do not fall back).
    package func locate(domain rawDomain: String) async throws(DNSError) -> Outcome {
        var generator = SystemRandomNumberGenerator()
        return try await locate(domain: rawDomain, using: &generator)
    }

    func locate(domain rawDomain: String, using generator: inout some RandomNumberGenerator) async throws(DNSError) -> Outcome {
        let domain = DNSResolver.normalize(rawDomain)
        let policy = policy(for: domain)
        if let url = overrides[domain] {
            guard policy.permits(url) else { return .noISchedule(reason: TLSPolicy.plaintextRefused("\(domain)'s receiver \(url) is http")) }
            return .receivers([Candidate(url: url, origin: .staticOverride, srv: nil)])
        }
        guard DNSName.isValidDomain(domain) else { throw .invalidName(rawDomain) }
        for (prefix, scheme, origin) in [
            ("_ischedules._tcp", "https", Candidate.Origin.srvTLS),
            ("_ischedule._tcp", "http", Candidate.Origin.srvPlain)
        ] {
            let answer = await Result { () async throws(DNSError) -> [SRVRecord] in try await resolver.srv("\(prefix).\(domain)").records }
            let records: [SRVRecord]
            switch answer {
            case .success(let found): records = found
            case .failure(let error) where error.isTemporary: throw error
            case .failure: continue
            }
            // A lone "." is the domain saying "no service"; at _ischedules it also forbids a
            // downgrade to plain http.
            if SRVOrdering.saysNoService(records) {
                return .noISchedule(reason: "\(prefix).\(domain) publishes '.' (service not offered)")
            }
            let usable = records.filter { !$0.target.isEmpty && $0.port != 0 }
            guard !usable.isEmpty else { continue }
            guard origin == .srvTLS || policy == .may else {
                return .noISchedule(reason: TLSPolicy.plaintextRefused("\(domain) publishes only \(prefix), plain http"))
            }
            let ordered = SRVOrdering.order(usable, using: &generator)
            return .receivers(
                ordered.map {
                    Candidate(url: "\(scheme)://\($0.target):\($0.port)\(Self.wellKnownPath)", origin: origin, srv: $0)
                })
        }
        return .noISchedule(reason: "no _ischedules._tcp or _ischedule._tcp SRV records for \(domain)")
    }
}
