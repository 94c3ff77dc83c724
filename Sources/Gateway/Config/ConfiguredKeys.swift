public import Transport

/// The parts of a configuration the key tools (`dkim rotate`, `dkim status`) read.
extension GatewayConfiguration {
    /// One of our signing keys as configured; the first of a domain signs, the others are published.
    public struct ConfiguredKey: Sendable {
        public let selector: String
        /// The private key file, resolved against the configuration's directory.
        public let file: String
        public let signs: Bool
    }

    /// Our domains, in file order.
    public var localDomainNames: [String] { domains.map(\.name) }

    /// `domain`'s keys in file order, or nil when it is not one of ours.
    public func keys(of domain: String) -> [ConfiguredKey]? {
        self.domain(domain).map { local in
            local.keys.enumerated().map { ConfiguredKey(selector: $1.selector, file: $1.privateKeyFile, signs: $0 == 0) }
        }
    }

    /// The resolver the gateway uses (`dns.servers`, else the system's).
    public var resolverConfiguration: DNSResolverConfiguration { DNSResolverConfiguration(servers: dnsServers) }

    /// `dkim.signature-lifetime` in seconds: how long a signature made with a retiring key stays valid.
    public var signatureLifetime: Int64 { dkim.signatureLifetime }
}
