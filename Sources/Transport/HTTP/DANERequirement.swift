internal import COpenSSL

/// Who a TLS peer must be by DANE (RFC 7671, RFC 7673 for SRV targets): the TLSA records at
/// `_<port>._tcp.<host>` that a trusted validating resolver vouched for. A request carrying one is
/// verified against these records instead of the WebPKI roots, and only for this host and port.
package struct DANERequirement: Sendable, Hashable, CustomStringConvertible {
    /// The TLSA base domain: the SRV target (or the configured receiver's host).
    package let host: String
    package let port: UInt16
    /// The usable records (DANE-TA or DANE-EE, known selector and matching type).
    package let records: [TLSARecord]

    /// Nil when none of `records` is usable: RFC 7672 §2.2 treats such a set as no TLSA at all.
    package init?(host: String, port: UInt16, records: [TLSARecord]) {
        let usable = records.filter(\.isUsable)
        guard !usable.isEmpty else { return nil }
        self.host = host
        self.port = port
        self.records = usable
    }

    /// The validated, usable TLSA records at `_<port>._tcp.<host>`, or nil: the answer not
    /// DNSSEC-secure, no records, none usable (each means "no DANE", RFC 7672 §2.2).
    /// - Throws: a failure that is not "no records" (a bogus answer is the validator's SERVFAIL).
    package static func lookup(host: String, port: UInt16, resolver: DNSResolver) async throws(DNSError) -> DANERequirement? {
        let answer = await Result { () async throws(DNSError) -> DNSAnswer<TLSARecord> in try await resolver.tlsa("_\(port)._tcp.\(host)") }
        switch answer {
        case .success(let found) where found.secure: return DANERequirement(host: host, port: port, records: found.records)
        case .success: return nil
        case .failure(let error) where error.meansNoRecords: return nil
        case .failure(let error): throw error
        }
    }

    /// The TLSA base domain and port of an https URL, read by libcurl's parser as every request
    /// is (`CurlURL`, which `CurlTransfer` checks a requirement against); nil for http and for an
    /// address literal (no name to publish TLSA under).
    package static func base(of url: String) -> (host: String, port: UInt16)? {
        guard let parsed = try? CurlURL(url), parsed.scheme == "https", !parsed.isAddressLiteral, let port = UInt16(exactly: parsed.port) else {
            return nil
        }
        return (parsed.host, port)
    }

    /// Where the records were published.
    package var name: String { "_\(port)._tcp.\(host)" }

    package var description: String { "\(records.count) TLSA record\(records.count == 1 ? "" : "s") at \(name)" }
}

extension TLSARecord {
    /// The DANE-EE record `3 1 1` (the SHA-256 of the SubjectPublicKeyInfo) for the first
    /// certificate of a PEM file: what a server publishes for its own certificate. Nil when the
    /// text holds no readable certificate.
    package static func daneEE(certificatePEM pem: [UInt8]) -> TLSARecord? {
        var digest = [UInt8](repeating: 0, count: 32)
        let status = pem.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { ischedule_certificate_spki_sha256($0.baseAddress, Int32($0.count), &digest) }
        }
        return status == 0 ? TLSARecord(usage: 3, selector: 1, matchingType: 1, data: digest) : nil
    }
}
