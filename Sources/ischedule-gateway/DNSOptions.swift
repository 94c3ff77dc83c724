import Transport

/// The resolver settings the CLI's `--dns-server` option selects.
enum DNSOptions {
    static func configuration(_ server: String?) -> DNSResolverConfiguration {
        DNSResolverConfiguration(servers: server.flatMap(DNSResolverConfiguration.Server.init).map { [$0] } ?? [])
    }
}
