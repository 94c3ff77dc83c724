import ArgumentParser
import Gateway
import Transport

/// `--dns-server`, shared by every command that looks things up in DNS.
struct DNSServerOption: ParsableArguments {
    @Option(name: .customLong("dns-server"), help: "DNS server, IPv4 HOST[:PORT] (default: /etc/resolv.conf).")
    var dnsServer: String?

    func validate() throws {
        if let dnsServer, DNSResolverConfiguration.Server(dnsServer) == nil {
            throw ValidationError("--dns-server '\(dnsServer)' is not an IPv4 HOST[:PORT]")
        }
    }

    var configuration: DNSResolverConfiguration {
        DNSResolverConfiguration(servers: dnsServer.flatMap(DNSResolverConfiguration.Server.init).map { [$0] } ?? [])
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

    func resolver(for configuration: GatewayConfiguration) -> DNSResolver {
        DNSResolver(
            configuration: dnsServer.flatMap(DNSResolverConfiguration.Server.init)
                .map { DNSResolverConfiguration(servers: [$0]) } ?? configuration.resolverConfiguration)
    }
}
