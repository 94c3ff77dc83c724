package import DKIM
import Dispatch
import Synchronization

/// SRV, TXT, TLSA and address (A/AAAA) lookups through glibc's resolver. Queries block, so they run on a dispatch queue of
/// their own, never on Swift's cooperative pool. Answers are cached for their TTL (capped);
/// NXDOMAIN and no-data briefly; server failures and timeouts not at all.
package final class DNSResolver: Sendable {
    package let configuration: DNSResolverConfiguration
    private let client: LibresolvClient
    private let clock: any UnixClock
    private let queue = DispatchQueue(label: "ischedule-gateway.dns", attributes: .concurrent)
    private let cache = Mutex<[CacheKey: CacheEntry]>([:])
    private let inFlight = Mutex<[CacheKey: Task<Result<Records, DNSError>, Never>]>([:])
    private static let cacheCapacity = 10_000

    package init(configuration: DNSResolverConfiguration = DNSResolverConfiguration(), clock: any UnixClock = SystemUnixClock()) {
        self.configuration = configuration
        self.client = LibresolvClient(configuration: configuration)
        self.clock = clock
    }

    /// SRV records at `name` (e.g. `_ischedules._tcp.example.com`).
    package func srv(_ name: String) async throws(DNSError) -> DNSAnswer<SRVRecord> {
        guard case .srv(let answer) = try await lookup(name, .srv) else { throw .malformedResponse(name, reason: "cache type confusion") }
        return answer
    }

    /// TXT records at `name`, each record's character-strings concatenated.
    package func txt(_ name: String) async throws(DNSError) -> DNSAnswer<String> {
        guard case .txt(let answer) = try await lookup(name, .txt) else { throw .malformedResponse(name, reason: "cache type confusion") }
        return answer
    }

    /// TLSA records at `name` (`_443._tcp.host`, RFC 6698), `secure` when validated.
    package func tlsa(_ name: String) async throws(DNSError) -> DNSAnswer<TLSARecord> {
        guard case .tlsa(let answer) = try await lookup(name, .tlsa) else { throw .malformedResponse(name, reason: "cache type confusion") }
        return answer
    }

    /// The IPv4 and IPv6 addresses of `host` (A, then AAAA), as literals; `noData` when it has none.
    /// `localhost` and names under `.localhost` are loopback without a query (RFC 6761).
    package func addresses(_ host: String) async throws(DNSError) -> DNSAnswer<String> {
        let name = Self.normalize(host)
        if name == "localhost" || name.hasSuffix(".localhost") { return DNSAnswer(records: ["127.0.0.1", "::1"], ttl: 0) }
        async let lookupV4 = result(name, .a)
        async let lookupV6 = result(name, .aaaa)
        let (v4, v6) = await (lookupV4, lookupV6)
        var records: [String] = []
        var ttls: [UInt32] = []
        var secure = true
        for case .success(.addresses(let answer)) in [v4, v6] where !answer.records.isEmpty {
            records += answer.records
            ttls.append(answer.ttl)
            secure = secure && answer.secure
        }
        if !records.isEmpty { return DNSAnswer(records: records, ttl: ttls.min() ?? 0, secure: secure) }
        // Nothing found: the more telling failure wins (a server failure over "no such name").
        for case .failure(let error) in [v4, v6] where !error.meansNoRecords { throw error }
        for case .failure(let error) in [v4, v6] { throw error }
        throw .noData(name)
    }

    private func result(_ name: String, _ type: LibresolvClient.RecordType) async -> Result<Records, DNSError> {
        await Result { () async throws(DNSError) -> Records in try await lookup(name, type) }
    }

    private struct CacheKey: Hashable {
        let name: String
        let type: Int32
    }

    private enum Records: Sendable {
        case srv(DNSAnswer<SRVRecord>)
        case txt(DNSAnswer<String>)
        case addresses(DNSAnswer<String>)
        case tlsa(DNSAnswer<TLSARecord>)
    }

    private struct CacheEntry: Sendable {
        let expires: Int64
        let result: Result<Records, DNSError>
    }

    private func lookup(_ rawName: String, _ type: LibresolvClient.RecordType) async throws(DNSError) -> Records {
        let name = Self.normalize(rawName)
        guard DNSName.isValidDomain(name) else { throw .invalidName(rawName) }
        let key = CacheKey(name: name, type: type.rawValue)
        let now = clock.now()
        if let entry = cache.withLock({ $0[key] }), entry.expires > now { return try entry.result.get() }
        // Concurrent lookups of one uncached name share one query.
        let task = inFlight.withLock { tasks in
            if let running = tasks[key] { return running }
            let task = Task { await resolve(name, type) }
            tasks[key] = task
            return task
        }
        let result = await task.value
        inFlight.withLock { tasks in if tasks[key] == task { tasks[key] = nil } }
        store(result, for: key, now: now)
        return try result.get()
    }

    private func resolve(_ name: String, _ type: LibresolvClient.RecordType) async -> Result<Records, DNSError> {
        let client = self.client
        return await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Result { () throws(DNSError) -> Records in
                        let response = try client.query(name, type)
                        let raw = response.records
                        guard !raw.isEmpty else { throw .noData(name) }
                        let ttl = raw.map(\.ttl).min() ?? 0
                        let secure = response.authenticated
                        switch type {
                        case .srv:
                            var records: [SRVRecord] = []
                            for record in raw { records.append(try LibresolvClient.srv(record, in: response.message, name: name)) }
                            return .srv(DNSAnswer(records: records, ttl: ttl, secure: secure))
                        case .txt:
                            var records: [String] = []
                            for record in raw { records.append(try LibresolvClient.txt(record, name: name)) }
                            return .txt(DNSAnswer(records: records, ttl: ttl, secure: secure))
                        case .tlsa:
                            var records: [TLSARecord] = []
                            for record in raw { records.append(try LibresolvClient.tlsa(record, name: name)) }
                            return .tlsa(DNSAnswer(records: records, ttl: ttl, secure: secure))
                        case .a, .aaaa:
                            var records: [String] = []
                            for record in raw { records.append(try LibresolvClient.address(record, name: name)) }
                            return .addresses(DNSAnswer(records: records, ttl: ttl, secure: secure))
                        }
                    })
            }
        }
    }

    private func store(_ result: Result<Records, DNSError>, for key: CacheKey, now: Int64) {
        let ttl: UInt32
        switch result {
        case .success(.srv(let answer)): ttl = answer.ttl
        case .success(.txt(let answer)): ttl = answer.ttl
        case .success(.addresses(let answer)): ttl = answer.ttl
        case .success(.tlsa(let answer)): ttl = answer.ttl
        case .failure(.nameDoesNotExist), .failure(.noData): ttl = configuration.negativeTTL
        case .failure: return
        }
        let lifetime = Int64(min(ttl, configuration.maximumTTL))
        guard lifetime > 0 else { return }
        cache.withLock { entries in
            if entries.count >= Self.cacheCapacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= Self.cacheCapacity { entries.removeAll() }
            }
            entries[key] = CacheEntry(expires: now + lifetime, result: result)
        }
    }

    /// A DNS name in the form lookups and caches use: lower case, without a trailing dot.
    package static func normalize(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }
}
