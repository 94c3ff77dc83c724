import Synchronization

/// Finds the public key for a signature: tries the `q=` methods in the order the signature lists
/// them (methods without a configured source are skipped), and within a method takes the first
/// acceptable record (protocol reference §7.6).
public struct KeyLocator: Sendable {
    private let sources: [KeyQueryMethod: any KeyRecordSource]
    private let parsedKeys = ParsedKeyCache(capacity: 512)

    public init(sources: [KeyQueryMethod: any KeyRecordSource]) {
        self.sources = sources
    }

    /// A key and where it came from.
    public struct LocatedKey: Sendable {
        public let key: RSAPublicKey
        public let method: KeyQueryMethod
        public let record: String
    }

    public func locate(domain: String, selector: String, methods: [KeyQueryMethod], hash: HashAlgorithm,
                       minimumBits: Int) async throws(DKIMFailure) -> LocatedKey {
        var temporary: (KeyQueryMethod, String)?
        var rejections: [String] = []
        var revokedCount = 0
        var smallest: Int?
        var sawRecords = false
        for method in methods {
            guard let source = sources[method] else { continue }
            let records: [String]
            do {
                records = try await source.keyRecords(domain: domain, selector: selector)
            } catch {
                if error.isTemporary { temporary = temporary ?? (method, error.reason) }
                else { rejections.append("\(method.rawValue): \(error.reason)") }
                continue
            }
            for text in records {
                sawRecords = true
                let record: KeyRecord
                do { record = try KeyRecord(parsing: text) } catch {
                    rejections.append("\(method.rawValue): \(KeyRecordRejection.malformed(error.description))")
                    continue
                }
                if let rejection = record.rejection(for: hash) {
                    if rejection == .revoked { revokedCount += 1 }
                    rejections.append("\(method.rawValue): \(rejection)")
                    continue
                }
                let key: RSAPublicKey
                do { key = try parsedKeys.key(for: record) } catch {
                    rejections.append("\(method.rawValue): \(error)")
                    continue
                }
                guard key.bits >= minimumBits else {
                    smallest = min(smallest ?? key.bits, key.bits)
                    continue
                }
                return LocatedKey(key: key, method: method, record: text)
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

/// Parsed public keys by their `p=` text, so a busy peer's key is decoded once, not per request.
final class ParsedKeyCache: Sendable {
    private let keys: Mutex<[String: RSAPublicKey]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.keys = Mutex([:])
    }

    func key(for record: KeyRecord) throws(KeyRecordRejection) -> RSAPublicKey {
        let text = record.publicKeyBase64
        if let cached = keys.withLock({ $0[text] }) { return cached }
        let key = try record.publicKey()
        keys.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[text] = key
        }
        return key
    }
}
