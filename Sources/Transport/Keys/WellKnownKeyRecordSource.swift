package import DKIM

/// `q=http/well-known`: `GET <base>/.well-known/domainkey/<d>/<s>` answered 2xx as `text/plain`,
/// one key record per line (protocol reference §7.6). The base comes from SRV
/// `_domainkey_lookup._tcp.<d>` (http for ports 80, 8008 and 8080, else https; default ports
/// omitted), else `https://<d>`. The URL derives from a signature's `d=`, so by default only
/// public addresses may be contacted.
package struct WellKnownKeyRecordSource: KeyRecordSource {
    package let client: HTTPClient
    package let resolver: DNSResolver
    package let addressPolicy: AddressPolicy
    /// Whether a failure names its cause (the operator's own tools). A gateway answering remote
    /// senders gives one reason for every connection failure, so that a forged `d=` cannot be used
    /// to learn which addresses are refused, which ports are closed and which speak TLS.
    package let revealsFailures: Bool

    package init(client: HTTPClient, resolver: DNSResolver, addressPolicy: AddressPolicy = .publicOnly, revealsFailures: Bool = false) {
        self.client = client
        self.resolver = resolver
        self.addressPolicy = addressPolicy
        self.revealsFailures = revealsFailures
    }

    /// Where the records for `(domain, selector)` are fetched from.
    package func url(domain: String, selector: String) async throws(KeyLookupError) -> String {
        let path = KeyLocation.wellKnownPath(domain: domain, selector: selector)
        let records: [SRVRecord]
        do { records = try await resolver.srv("_domainkey_lookup._tcp.\(domain)").records } catch {
            if error.meansNoRecords { return "https://\(domain)\(path)" }
            throw KeyLookupError(reason: error.description, isTemporary: error.isTemporary)
        }
        guard !SRVOrdering.saysNoService(records), let target = SRVOrdering.order(records).first else {
            return "https://\(domain)\(path)"
        }
        let plain = [80, 8008, 8080].contains(Int(target.port))
        let defaultPort: UInt16 = plain ? 80 : 443
        let port = target.port == defaultPort ? "" : ":\(target.port)"
        return "\(plain ? "http" : "https")://\(target.target)\(port)\(path)"
    }

    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        let location = try await url(domain: domain, selector: selector)
        let response: HTTPClientResponse
        do {
            response = try await client.send(
                HTTPClientRequest(
                    url: location, headers: [HeaderField(name: "Accept", value: "text/plain")],
                    addressPolicy: addressPolicy))
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
