import ArgumentParser
import Foundation
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
        let servers = dnsServer.flatMap(DNSResolverConfiguration.Server.init).map { [$0] } ?? []
        return DNSResolverConfiguration(servers: servers, validatesDNSSEC: dnssec && Self.trustsAD(servers))
    }

    /// `--dnssec` believes the AD bit of a validator on this host only; for any other (or for
    /// /etc/resolv.conf's, which may change) it says why on stderr and reports nothing as secure.
    static func trustsAD(_ servers: [DNSResolverConfiguration.Server]) -> Bool {
        let untrusted = DNSResolverConfiguration.untrustedValidators(servers.map(\.host), trusted: [])
        guard servers.isEmpty || !untrusted.isEmpty else { return true }
        let named = servers.isEmpty ? "/etc/resolv.conf's servers" : untrusted.joined(separator: ", ")
        FileHandle.standardError.write(Data("--dnssec: \(named) not on this host: its AD bit is not believed, nothing is reported secure\n".utf8))
        return false
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

    /// The configuration's resolver; `--dns-server` replaces its servers, and `dns.dnssec` stays
    /// only for a validator on this host.
    func resolver(for configuration: GatewayConfiguration) -> DNSResolver {
        var resolver = configuration.resolverConfiguration
        if let server = dnsServer.flatMap(DNSResolverConfiguration.Server.init) {
            resolver.servers = [server]
            if resolver.validatesDNSSEC { resolver.validatesDNSSEC = DNSServerOption.trustsAD([server]) }
        }
        return DNSResolver(configuration: resolver)
    }
}
