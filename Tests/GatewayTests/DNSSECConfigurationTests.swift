import TestSupport
import Testing

@testable import Gateway

/// `dns.dnssec: validate`: the AD bit is believed only from a validator on loopback or one listed
/// in `dns.trusted-validators`; anything else is refused at load (and so by `--check-config`).
@Suite("dns.dnssec configuration")
struct DNSSECConfigurationTests {
    func problem(_ configuration: GatewayYAML) -> String? {
        do {
            _ = try ConfigurationLoader.parse(yaml: configuration.text, directory: "/tmp/dnssec-test", environment: [:])
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("off unless said; validate with a loopback validator loads and asks with DO")
    func validateWithALoopbackValidator() throws {
        var configuration = GatewayYAML.local()
        configuration["dns", "servers"] = ["127.0.0.1:5353"]
        var loaded = try ConfigurationLoader.parse(yaml: configuration.text, directory: "/tmp/dnssec-test", environment: [:])
        #expect(!loaded.resolverConfiguration.validatesDNSSEC)
        configuration["dns", "dnssec"] = "validate"
        loaded = try ConfigurationLoader.parse(yaml: configuration.text, directory: "/tmp/dnssec-test", environment: [:])
        #expect(loaded.resolverConfiguration.validatesDNSSEC)
        #expect(loaded.resolverConfiguration.servers.map(\.description) == ["127.0.0.1:5353"])
    }

    @Test("validate with a server neither on loopback nor trusted is refused, naming it and the way out")
    func untrustedValidatorIsRefused() {
        var configuration = GatewayYAML.local()
        configuration["dns"] = ["servers": ["127.0.0.1", "192.0.2.53:53"], "dnssec": "validate"]
        let refusal = problem(configuration) ?? "loaded"
        #expect(
            refusal.contains(
                "dns.dnssec: validate believes the AD bit only from a validating resolver on loopback or in dns.trusted-validators; 192.0.2.53 is neither"
            ), "\(refusal)")
        #expect(refusal.contains("run unbound on this host"))
        configuration["dns", "trusted-validators"] = ["192.0.2.53"]
        #expect(problem(configuration) == nil)
    }

    @Test("validate needs dns.servers: /etc/resolv.conf is read at every query and may change under it")
    func validateNeedsExplicitServers() {
        var configuration = GatewayYAML.local()
        configuration["dns"] = ["dnssec": "validate"]
        #expect(problem(configuration)?.contains("dns.dnssec: validate needs dns.servers (a validating resolver on this host") == true)
    }

    @Test("a misspelt dnssec value and a bad trusted validator are each named")
    func badValuesAreNamed() {
        var configuration = GatewayYAML.local()
        configuration["dns"] = ["dnssec": "yes-please", "servers": ["127.0.0.1"]]
        #expect(problem(configuration)?.contains("dns.dnssec: 'yes-please' is not off or validate") == true)
        configuration["dns"] = ["dnssec": "validate", "servers": ["127.0.0.1"], "trusted-validators": ["resolver.example"]]
        #expect(problem(configuration)?.contains("dns.trusted-validators[0]: 'resolver.example' is not an IPv4 address") == true)
    }

    @Test("dane and dane-only need dns.dnssec: validate, wherever they are set")
    func daneNeedsValidation() {
        var configuration = GatewayYAML.local()
        configuration["outbound", "tls-policy"] = "dane"
        configuration["remote-domains", "partner.test", "tls-policy"] = "dane-only"
        let refusal = problem(configuration) ?? "loaded"
        #expect(refusal.contains("outbound.tls-policy: dane needs dns.dnssec: validate"), "\(refusal)")
        #expect(refusal.contains("remote-domains.partner.test.tls-policy: dane-only needs dns.dnssec: validate"), "\(refusal)")
        configuration["dns"] = ["dnssec": "validate", "servers": ["127.0.0.1"]]
        #expect(problem(configuration) == nil)
    }
}
