package import DKIM

/// `q=dns/txt`: the TXT records at `<selector>._domainkey.<domain>`, one key record per RR.
/// NXDOMAIN and no-data mean "no key here"; server failure and timeout are temporary.
package struct DNSKeyRecordSource: KeyRecordSource {
    package let resolver: DNSResolver

    package init(resolver: DNSResolver) {
        self.resolver = resolver
    }

    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        try await securedKeyRecords(domain: domain, selector: selector).records
    }

    /// `secure` when the resolver validates (`dns.dnssec: validate`) and the answer was validated.
    package func securedKeyRecords(domain: String, selector: String) async throws(KeyLookupError) -> (records: [String], secure: Bool) {
        let name = KeyLocation.dnsName(domain: domain, selector: selector)
        do {
            let answer = try await resolver.txt(name)
            return (answer.records, answer.secure)
        } catch {
            if error.meansNoRecords { return ([], false) }
            throw KeyLookupError(reason: error.description, isTemporary: error.isTemporary)
        }
    }
}
