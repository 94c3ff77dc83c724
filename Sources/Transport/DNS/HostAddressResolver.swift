package import DKIM
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Turns a host name into the address literals a connection may use. The HTTP and SMTP clients
/// resolve every name through one of these and pin the result in libcurl, so libcurl never asks
/// the system resolver on its own and the address checked is the address connected to.
package protocol HostAddressResolver: Sendable {
    /// IPv4 and IPv6 literals for `host`; throws when there are none.
    func addresses(of host: String) async throws(DNSError) -> [String]
}

extension DNSResolver: HostAddressResolver {
    package func addresses(of host: String) async throws(DNSError) -> [String] {
        try await addresses(host).records
    }

    /// The resolver for connections: this one when DNS servers are configured (nothing then goes
    /// to the system resolver), else the system's (`getaddrinfo`: /etc/hosts, then resolv.conf).
    package var hostResolver: any HostAddressResolver {
        configuration.servers.isEmpty ? SystemHostResolver.shared : self
    }
}

/// `getaddrinfo` (it blocks) on a dispatch queue of its own, for when no DNS servers are
/// configured. getaddrinfo gives no TTL, so answers are kept for a minute; concurrent lookups of
/// one name share a single call, so a burst of requests to one host costs one lookup.
package final class SystemHostResolver: HostAddressResolver {
    /// The one the clients share by default.
    package static let shared = SystemHostResolver()

    private static let queue = DispatchQueue(label: "ischedule-gateway.getaddrinfo", attributes: .concurrent)
    private static let lifetimeSeconds: Int64 = 60
    private let clock: any UnixClock
    private let cache = Mutex<[String: (expires: Int64, addresses: [String])]>([:])
    private let inFlight = Mutex<[String: Task<Result<[String], DNSError>, Never>]>([:])

    package init(clock: any UnixClock = SystemUnixClock()) {
        self.clock = clock
    }

    package func addresses(of host: String) async throws(DNSError) -> [String] {
        let name = DNSResolver.normalize(host)
        let now = clock.now()
        if let entry = cache.withLock({ $0[name] }), entry.expires > now { return entry.addresses }
        let task = inFlight.withLock { tasks in
            if let running = tasks[name] { return running }
            let task = Task { await Self.lookup(name) }
            tasks[name] = task
            return task
        }
        let result = await task.value
        inFlight.withLock { tasks in if tasks[name] == task { tasks[name] = nil } }
        if case .success(let addresses) = result {
            cache.withLock { entries in
                if entries.count > 10_000 { entries.removeAll() }
                entries[name] = (now + Self.lifetimeSeconds, addresses)
            }
        }
        return try result.get()
    }

    private static func lookup(_ host: String) async -> Result<[String], DNSError> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: resolve(host)) }
        }
    }

    private static func resolve(_ host: String) -> Result<[String], DNSError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        switch status {
        case 0: break
        case EAI_NONAME: return .failure(.nameDoesNotExist(host))
        case EAI_AGAIN: return .failure(.timeout(host))
        default: return .failure(.serverFailure(host, rcode: Int(status)))
        }
        var addresses: [String] = []
        var node = list
        while let entry = node?.pointee {
            if let address = entry.ai_addr, let text = SocketAddressText.text(address), !addresses.contains(text) {
                addresses.append(text)
            }
            node = entry.ai_next
        }
        return addresses.isEmpty ? .failure(.noData(host)) : .success(addresses)
    }
}

/// The address literal of a `sockaddr_in` / `sockaddr_in6`.
enum SocketAddressText {
    static func text(_ address: UnsafePointer<sockaddr>) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let printed: UnsafePointer<CChar>?
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            printed = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                withUnsafePointer(to: v4.pointee.sin_addr) { inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count)) }
            }
        case AF_INET6:
            printed = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                withUnsafePointer(to: v6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count)) }
            }
        default: return nil
        }
        guard printed != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
