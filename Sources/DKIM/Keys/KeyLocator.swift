import Synchronization

/// Finds the public key for a signature: tries the `q=` methods in the order the signature lists
/// them (methods without a configured source are skipped), and within a method takes the first
/// acceptable record (protocol reference §7.6).
package struct KeyLocator: Sendable {
    private let sources: [KeyQueryMethod: any KeyRecordSource]
    private let parsedKeys = ParsedKeyCache(capacity: 512)

    package init(sources: [KeyQueryMethod: any KeyRecordSource]) {
        self.sources = sources
    }

    /// A key and where it came from.
    package struct LocatedKey: Sendable {
        package let key: RSAPublicKey
        package let method: KeyQueryMethod
        package let record: String
        /// The record says `t=y`: the domain is testing DKIM.
        package let isTesting: Bool
        /// The record came from DNSSEC-validated DNS.
        package let isDNSSECSecure: Bool
    }

    package func locate(
        domain: String, selector: String, methods: [KeyQueryMethod], hash: HashAlgorithm,
        minimumBits: Int
    ) async throws(DKIMFailure) -> LocatedKey {
        var temporary: (KeyQueryMethod, String)?
        var rejections: [String] = []
        var revokedCount = 0
        var smallest: Int?
        var sawRecords = false
        for method in methods {
            guard let source = sources[method] else { continue }
            let records: [String]
            let secure: Bool
            do {
                (records, secure) = try await source.securedKeyRecords(domain: domain, selector: selector)
            } catch {
                if error.isTemporary {
                    temporary = temporary ?? (method, error.reason)
                } else {
                    rejections.append("\(method.rawValue): \(error.reason)")
                }
                continue
            }
            for text in records {
                sawRecords = true
                let key: RSAPublicKey
                let testing: Bool
                do { (key, testing) = try parsedKeys.key(for: text, hash: hash) } catch {
                    if error == .revoked { revokedCount += 1 }
                    rejections.append("\(method.rawValue): \(error)")
                    continue
                }
                guard key.bits >= minimumBits else {
                    smallest = min(smallest ?? key.bits, key.bits)
                    continue
                }
                return LocatedKey(key: key, method: method, record: text, isTesting: testing, isDNSSECSecure: secure)
            }
        }
        if let (method, reason) = temporary { throw .keyLookupFailed(method: method, reason: reason) }
        if let smallest { throw .keyTooSmall(bits: smallest, minimum: minimumBits) }
        if revokedCount > 0 && revokedCount == rejections.count { throw .keyRevoked(domain: domain, selector: selector) }
        if !sawRecords && rejections.isEmpty {
            throw .keyNotFound(domain: domain, selector: selector, methods: methods.filter { sources[$0] != nil })
        }
        throw .keyUnacceptable(domain: domain, selector: selector, reasons: rejections)
    }
}

/// Parsed key records by their text, so a busy peer's record is parsed and its key decoded once
/// (OpenSSL 3 needs ~150 µs to decode an SPKI), not per request.
final class ParsedKeyCache: Sendable {
    private struct Entry: Sendable {
        /// The record's verdict for each hash: its key, or why it cannot be used.
        let verdicts: [HashAlgorithm: Result<RSAPublicKey, KeyRecordRejection>]
        let isTesting: Bool
    }

    private let entries: Mutex<[String: Entry]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    /// The key of record `text` if the record is acceptable for `hash`, and whether it is in testing mode.
    func key(for text: String, hash: HashAlgorithm) throws(KeyRecordRejection) -> (key: RSAPublicKey, isTesting: Bool) {
        let entry = entries.withLock { $0[text] } ?? insert(text)
        guard let verdict = entry.verdicts[hash] else { throw .hashNotAllowed(hash.rawValue) }
        return (try verdict.get(), entry.isTesting)
    }

    private func insert(_ text: String) -> Entry {
        var verdicts: [HashAlgorithm: Result<RSAPublicKey, KeyRecordRejection>] = [:]
        var testing = false
        do {
            let record = try KeyRecord(parsing: text)
            testing = record.isTesting
            var key: Result<RSAPublicKey, KeyRecordRejection>?
            for hash in HashAlgorithm.allCases {
                if let rejection = record.rejection(for: hash) {
                    verdicts[hash] = .failure(rejection)
                    continue
                }
                if key == nil {
                    do { key = .success(try record.publicKey()) } catch { key = .failure(error) }
                }
                verdicts[hash] = key
            }
        } catch {
            for hash in HashAlgorithm.allCases { verdicts[hash] = .failure(.malformed(error.description)) }
        }
        let entry = Entry(verdicts: verdicts, isTesting: testing)
        entries.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[text] = entry
        }
        return entry
    }
}
