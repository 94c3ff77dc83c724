package import DKIM

/// `q=dns/txt`: the TXT records at `<selector>._domainkey.<domain>`, one key record per RR.
/// NXDOMAIN and no-data mean "no key here"; server failure and timeout are temporary.
package struct DNSKeyRecordSource: KeyRecordSource {
    package let resolver: DNSResolver

    package init(resolver: DNSResolver) {
        self.resolver = resolver
    }

    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        let name = KeyLocation.dnsName(domain: domain, selector: selector)
        do {
            return try await resolver.txt(name).records
        } catch {
            if error.meansNoRecords { return [] }
            throw KeyLookupError(reason: error.description, isTemporary: error.isTemporary)
        }
    }
}
