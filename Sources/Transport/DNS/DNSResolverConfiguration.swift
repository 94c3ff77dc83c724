/// Where and how the resolver asks.
package struct DNSResolverConfiguration: Sendable, Equatable {
    /// An IPv4 DNS server and port (tests aim the resolver at a loopback port).
    package struct Server: Sendable, Equatable, CustomStringConvertible {
        package let host: String
        package let port: UInt16

        /// Parses `a.b.c.d` or `a.b.c.d:port` (port 53 by default).
        package init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count) else { return nil }
            let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil && !$0.isEmpty && $0.count <= 3 }) else { return nil }
            host = String(parts[0])
            if parts.count == 2 {
                guard let port = UInt16(parts[1]), port > 0 else { return nil }
                self.port = port
            } else {
                port = 53
            }
        }

        package var description: String { "\(host):\(port)" }
    }

    /// Empty: the servers of /etc/resolv.conf.
    package var servers: [Server]
    /// Seconds per try.
    package var timeoutSeconds: Int
    /// Tries per server.
    package var attempts: Int
    /// Cached answers live at most this long, whatever their TTL says.
    package var maximumTTL: UInt32
    /// NXDOMAIN and no-data answers are cached this long.
    package var negativeTTL: UInt32
    /// `dns.dnssec: validate`: ask with the DO bit and report the servers' AD bit as `secure`. Only
    /// for servers that validate and that the path to is trusted (loopback, or listed).
    package var validatesDNSSEC: Bool

    package init(
        servers: [Server] = [], timeoutSeconds: Int = 3, attempts: Int = 2,
        maximumTTL: UInt32 = 3600, negativeTTL: UInt32 = 60, validatesDNSSEC: Bool = false
    ) {
        self.validatesDNSSEC = validatesDNSSEC
        self.servers = servers
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
        self.maximumTTL = maximumTTL
        self.negativeTTL = negativeTTL
    }
}

extension DNSResolverConfiguration {
    /// Which of `addresses` may not be trusted for the AD bit: a validator's answer crosses the
    /// path to it unauthenticated, so only a server on this host (loopback) or one the
    /// administrator lists in `dns.trusted-validators` (a path they secured) is believed.
    package static func untrustedValidators(_ addresses: [String], trusted: [String]) -> [String] {
        addresses.filter { address in !IPAddressRange.isLoopback(address) && !trusted.contains(address) }
    }
}
