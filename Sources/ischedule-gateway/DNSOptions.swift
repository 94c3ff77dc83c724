import ArgumentParser
import Gateway
import Transport

/// `--dns-server`, shared by every command that looks things up in DNS.
struct DNSServerOption: ParsableArguments {
    @Option(name: .customLong("dns-server"), help: "DNS server, IPv4 HOST[:PORT] (default: /etc/resolv.conf).")
    var dnsServer: String?

    @Flag(
        help:
            "Ask with the DO bit and report the server's AD bit: secure or insecure per answer. Trust it only for a validating resolver on this host."
    )
    var dnssec = false

    func validate() throws {
        if let dnsServer, DNSResolverConfiguration.Server(dnsServer) == nil {
            throw ValidationError("--dns-server '\(dnsServer)' is not an IPv4 HOST[:PORT]")
        }
    }

    var configuration: DNSResolverConfiguration {
        DNSResolverConfiguration(servers: dnsServer.flatMap(DNSResolverConfiguration.Server.init).map { [$0] } ?? [], validatesDNSSEC: dnssec)
    }
}

/// `--dns-server` for commands that read a configuration: its `dns.servers` unless overridden.
struct ConfiguredDNSOption: ParsableArguments {
    @Option(name: .customLong("dns-server"), help: "DNS server, IPv4 HOST[:PORT] (default: the configuration's dns.servers).")
    var dnsServer: String?

    func validate() throws {
        if let dnsServer, DNSResolverConfiguration.Server(dnsServer) == nil {
            throw ValidationError("--dns-server '\(dnsServer)' is not an IPv4 HOST[:PORT]")
        }
    }

    /// The configuration's resolver; `--dns-server` replaces its servers, `dns.dnssec` stays.
    func resolver(for configuration: GatewayConfiguration) -> DNSResolver {
        var resolver = configuration.resolverConfiguration
        if let server = dnsServer.flatMap(DNSResolverConfiguration.Server.init) { resolver.servers = [server] }
        return DNSResolver(configuration: resolver)
    }
}
