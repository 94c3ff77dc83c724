import Gateway
import Transport

/// `probe`'s TLS step for one https receiver: its TLSA records and whether DNSSEC vouched for
/// them, whether the certificate matches them, whether WebPKI verifies it, and so how the
/// domain's `tls-policy` would authenticate it.
struct TLSProbe {
    let client: HTTPClient
    let resolver: DNSResolver
    let addressPolicy: AddressPolicy
    let tlsPolicy: TLSPolicy
    /// `--dnssec`: answers carry the validator's verdict.
    let validates: Bool

    func check(_ candidate: ReceiverDiscovery.Candidate) async {
        print("  \(candidate.url):")
        let tlsa = await tlsa(for: candidate)
        var daneMatches: Bool?
        if let tlsa {
            switch await send(candidate, dane: tlsa) {
            case .success: daneMatches = true
            case .failure(.daneMismatch(let detail)):
                daneMatches = false
                print("    TLSA: does not match: \(detail)")
            case .failure(let error): print("    TLSA: not checked: \(error)")
            }
            if daneMatches == true { print("    TLSA: the certificate matches (\(tlsa))") }
        }
        switch await send(candidate, dane: nil) {
        case .success(let response):
            print("    WebPKI: verified (HTTP/\(response.httpVersion), status \(response.status))")
            let leaf = response.certificates.first ?? [:]
            for (label, key) in [("subject", "Subject"), ("issuer", "Issuer"), ("expires", "Expire date")] {
                if let value = leaf[key] { print("    \(label): \(value)") }
            }
        case .failure(let error): print("    WebPKI: \(error)")
        }
        print("    tls-policy \(tlsPolicy.rawValue): \(verdict(tlsa: tlsa, matches: daneMatches, candidate: candidate))")
    }

    /// How delivery under the policy would treat this receiver.
    private func verdict(tlsa: DANERequirement?, matches: Bool?, candidate: ReceiverDiscovery.Candidate) -> String {
        guard tlsaBinds(candidate) else {
            return tlsPolicy == .daneOnly ? "not used (no DNSSEC-validated TLSA)" : "authenticates by WebPKI (no DNSSEC-validated TLSA)"
        }
        switch matches {
        case true?: return "authenticates by DANE"
        case false?: return "refuses it (its certificate matches none of its validated TLSA records; a temporary failure)"
        case nil: return "authenticates by DANE (the match could not be checked now)"
        }
    }

    /// Whether delivery binds this candidate to TLSA records (the policy uses DANE and discovery found them).
    private func tlsaBinds(_ candidate: ReceiverDiscovery.Candidate) -> Bool { tlsPolicy.usesDANE && candidate.dane != nil }

    /// The candidate's validated TLSA records: from discovery under dane, else looked up here
    /// (with `--dnssec`) to show what a dane policy would find.
    private func tlsa(for candidate: ReceiverDiscovery.Candidate) async -> DANERequirement? {
        if let bound = candidate.dane {
            print("    TLSA \(bound.name): \(bound.records.count) usable record(s), DNSSEC-secure")
            return bound
        }
        guard validates, let (host, port) = DANERequirement.base(of: candidate.url) else { return nil }
        let name = "_\(port)._tcp.\(host)"
        do {
            let answer = try await resolver.tlsa(name)
            print("    TLSA \(name): \(answer.records.count) record(s), \(answer.secure ? "DNSSEC-secure" : "DNSSEC-insecure (not used)")")
            return answer.secure ? DANERequirement(host: host, port: port, records: answer.records) : nil
        } catch {
            print("    TLSA \(name): \(error.meansNoRecords ? "none" : "\(error)")")
            return nil
        }
    }

    private func send(_ candidate: ReceiverDiscovery.Candidate, dane: DANERequirement?) async -> Result<HTTPClientResponse, HTTPClientError> {
        var request = HTTPClientRequest(url: candidate.url + "?action=capabilities", addressPolicy: addressPolicy)
        request.collectsCertificates = dane == nil
        request.dane = dane
        let client = client
        return await Result { () async throws(HTTPClientError) -> HTTPClientResponse in try await client.send(request) }
    }
}
