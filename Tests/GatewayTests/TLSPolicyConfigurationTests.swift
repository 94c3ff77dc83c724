import TestSupport
import Testing

@testable import Gateway

/// `tls-policy` in the configuration: verify unless said otherwise, a domain's own policy first,
/// and a configured plain-http receiver refused where verify applies.
@Suite("tls-policy configuration")
struct TLSPolicyConfigurationTests {
    func load(_ configuration: GatewayYAML) throws -> GatewayConfiguration {
        try ConfigurationLoader.parse(yaml: configuration.text, directory: "/tmp/tls-policy-test", environment: [:])
    }

    func problem(_ configuration: GatewayYAML) -> String? {
        do {
            _ = try load(configuration)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("verify is the default; outbound.tls-policy sets it for all, remote-domains.<d>.tls-policy for one")
    func verifyIsTheDefault() throws {
        var configuration = GatewayYAML.local()
        #expect(try load(configuration).tlsPolicy == .verify)
        configuration["remote-domains", "legacy.test", "tls-policy"] = "may"
        configuration["remote-domains", "other.test"] = ["signing-domains": ["alpha.test"]]
        let loaded = try load(configuration)
        #expect(loaded.tlsPolicy == .verify)
        #expect(loaded.remotes.map(\.tlsPolicy) == [.may, nil])
        configuration["outbound", "tls-policy"] = "may"
        #expect(try load(configuration).tlsPolicy == .may)
    }

    @Test("an http uri under verify is refused at load, naming the key and the way out; https or may loads")
    func httpURIIsRefusedUnderVerify() throws {
        var configuration = GatewayYAML.local()
        configuration["remote-domains", "legacy.test", "uri"] = "http://192.0.2.7/ischedule"
        #expect(
            problem(configuration)?.contains(
                "remote-domains.legacy.test.uri: http://192.0.2.7/ischedule is plain http, which tls-policy verify (the default) refuses; "
                    + "use https, or set remote-domains.legacy.test.tls-policy: may") == true, "\(problem(configuration) ?? "loaded")")
        configuration["remote-domains", "legacy.test", "tls-policy"] = "may"
        #expect(problem(configuration) == nil)
        configuration["remote-domains", "legacy.test"] = ["uri": "https://192.0.2.7/ischedule"]
        #expect(problem(configuration) == nil)
        configuration["remote-domains", "legacy.test"] = ["uri": "http://192.0.2.7/ischedule"]
        configuration["outbound", "tls-policy"] = "may"
        #expect(problem(configuration) == nil)
        configuration["remote-domains", "legacy.test", "tls-policy"] = "verify"
        #expect(problem(configuration)?.contains("remote-domains.legacy.test.uri: http://192.0.2.7/ischedule is plain http") == true)
    }

    @Test("an unknown policy is named with the ones there are")
    func unknownPolicyIsNamed() {
        var configuration = GatewayYAML.local()
        configuration["outbound", "tls-policy"] = "encrypt"
        #expect(
            problem(configuration)?.contains("outbound.tls-policy: 'encrypt' is not one of verify, may") == true, "\(problem(configuration) ?? "")")
        configuration["outbound", "tls-policy"] = nil
        configuration["remote-domains", "x.test", "tls-policy"] = "none"
        #expect(problem(configuration)?.contains("remote-domains.x.test.tls-policy: 'none' is not one of verify, may") == true)
    }
}
