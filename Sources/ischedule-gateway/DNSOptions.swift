import ArgumentParser
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
