package import DKIM

/// `q=http/well-known`: `GET <base>/.well-known/domainkey/<d>/<s>` answered 2xx as `text/plain`,
/// one key record per line (protocol reference §7.6). The base comes from SRV
/// `_domainkey_lookup._tcp.<d>` (http for ports 80, 8008 and 8080, else https; default ports
/// omitted), else `https://<d>`. The URL derives from a signature's `d=`, so by default only
/// public addresses may be contacted.
package struct WellKnownKeyRecordSource: KeyRecordSource {
    /// How one domain's key server must be reached: its `tls-policy`, as this source applies it.
    package struct FetchPolicy: Sendable, Equatable {
        /// The policy's name, for refusals ("verify").
        package var name: String
        /// Plain http key servers (SRV ports 80, 8008, 8080) are used.
        package var allowsPlainHTTP: Bool
        /// Behind a validated SRV answer (or for `https://<d>`), validated TLSA records bind the certificate.
        package var usesDANE: Bool
        /// A key server without validated TLSA is not used.
        package var requiresDANE: Bool

        package init(name: String, allowsPlainHTTP: Bool, usesDANE: Bool = false, requiresDANE: Bool = false) {
            self.name = name
            self.allowsPlainHTTP = allowsPlainHTTP
            self.usesDANE = usesDANE
            self.requiresDANE = requiresDANE
        }
    }

    package let client: HTTPClient
    package let resolver: DNSResolver
    package let addressPolicy: AddressPolicy
    /// Each signing domain's policy; by default plain http is allowed (the operator's own tools).
    package let policies: @Sendable (String) -> FetchPolicy
    /// Whether a failure names its cause (the operator's own tools). A gateway answering remote
    /// senders gives one reason for every connection failure, so that a forged `d=` cannot be used
    /// to learn which addresses are refused, which ports are closed and which speak TLS.
    package let revealsFailures: Bool

    package init(
        client: HTTPClient, resolver: DNSResolver, addressPolicy: AddressPolicy = .publicOnly, revealsFailures: Bool = false,
        policies: @escaping @Sendable (String) -> FetchPolicy = { _ in FetchPolicy(name: "may", allowsPlainHTTP: true) }
    ) {
        self.client = client
        self.resolver = resolver
        self.addressPolicy = addressPolicy
        self.revealsFailures = revealsFailures
        self.policies = policies
    }

    /// Where the records for `(domain, selector)` are fetched from.
    package func url(domain: String, selector: String) async throws(KeyLookupError) -> String {
        try await server(domain: domain).url + KeyLocation.wellKnownPath(domain: domain, selector: selector)
    }

    /// The key server's base URL, whether its SRV answer was DNSSEC-secure, and its host and port.
    private func server(domain: String) async throws(KeyLookupError) -> (url: String, secure: Bool, host: String, port: UInt16) {
        let answer: DNSAnswer<SRVRecord>
        do { answer = try await resolver.srv("_domainkey_lookup._tcp.\(domain)") } catch {
            if error.meansNoRecords { return ("https://\(domain)", false, domain, 443) }
            throw KeyLookupError(reason: error.description, isTemporary: error.isTemporary)
        }
        guard !SRVOrdering.saysNoService(answer.records), let target = SRVOrdering.order(answer.records).first else {
            return ("https://\(domain)", false, domain, 443)
        }
        let plain = [80, 8008, 8080].contains(Int(target.port))
        let defaultPort: UInt16 = plain ? 80 : 443
        let port = target.port == defaultPort ? "" : ":\(target.port)"
        return ("\(plain ? "http" : "https")://\(target.target)\(port)", answer.secure, DNSResolver.normalize(target.target), target.port)
    }

    /// The request for the key records, as the domain's policy allows it.
    private func request(domain: String, selector: String) async throws(KeyLookupError) -> HTTPClientRequest {
        let policy = policies(DNSResolver.normalize(domain))
        let server = try await server(domain: domain)
        let location = server.url + KeyLocation.wellKnownPath(domain: domain, selector: selector)
        var request = HTTPClientRequest(url: location, headers: [HeaderField(name: "Accept", value: "text/plain")], addressPolicy: addressPolicy)
        if location.hasPrefix("http://") {
            guard policy.allowsPlainHTTP else {
                throw KeyLookupError(reason: "plaintext key fetch refused by tls-policy \(policy.name) (\(location))", isTemporary: false)
            }
            return request
        }
        // Behind a validated SRV answer; with no SRV, https://<d> is the domain's own name.
        if policy.usesDANE && (server.secure || server.host == DNSResolver.normalize(domain)) {
            do { request.dane = try await DANERequirement.lookup(host: server.host, port: server.port, resolver: resolver) } catch {
                throw KeyLookupError(reason: error.description, isTemporary: error.isTemporary)
            }
        }
        if policy.requiresDANE && request.dane == nil {
            throw KeyLookupError(
                reason: "the key server for \(domain) has no DNSSEC-validated TLSA, which tls-policy \(policy.name) requires", isTemporary: false)
        }
        return request
    }

    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        let request = try await request(domain: domain, selector: selector)
        let location = request.url
        let response: HTTPClientResponse
        do {
            response = try await client.send(request)
        } catch {
            guard revealsFailures else {
                throw KeyLookupError(reason: "the key server for \(domain) could not be reached", isTemporary: true)
            }
            switch error {
            case .couldNotConnect, .couldNotResolve, .timeout:
                throw KeyLookupError(reason: "\(location): \(error)", isTemporary: true)
            default:
                throw KeyLookupError(reason: "\(location): \(error)", isTemporary: false)
            }
        }
        switch response.status {
        case 200..<300: break
        case 404, 410: return []
        case 500..<600: throw KeyLookupError(reason: "\(location): HTTP \(response.status)", isTemporary: true)
        default: throw KeyLookupError(reason: "\(location): HTTP \(response.status)", isTemporary: false)
        }
        let type = response.values("Content-Type").first ?? ""
        guard type.split(separator: ";").first.map({ ASCII.trimmingWhitespace($0).lowercased() }) == "text/plain" else {
            throw KeyLookupError(reason: "\(location): Content-Type '\(type)' is not text/plain", isTemporary: false)
        }
        return PrivateExchangeKeyStore.records(in: String(decoding: response.body, as: UTF8.self))
    }
}
