import Foundation
import TestSupport
import Testing

@testable import Gateway

/// The tests' configuration builder writes what the gateway's loader reads back as meant.
@Suite("GatewayYAML")
struct GatewayYAMLTests {
    func load(_ configuration: GatewayYAML) throws -> GatewayConfiguration {
        try ConfigurationLoader.parse(yaml: configuration.text, directory: "/tmp/gateway-yaml-test", environment: [:])
    }

    @Test("local() is a working gateway: loopback listener, one signing domain, loopback intake")
    func localLoads() throws {
        let configuration = try load(.local(upstream: "http://127.0.0.1:9/"))
        #expect(configuration.listeners.map(\.url) == ["http://127.0.0.1:0"])
        #expect(configuration.domains.map(\.name) == ["alpha.test"])
        #expect(
            configuration.domains[0].keys == [.init(selector: "gw", privateKeyFile: "/tmp/gateway-yaml-test/keys/alpha.pem", createIfMissing: true)])
        #expect(configuration.domains[0].upstream == "http://127.0.0.1:9/")
        #expect(configuration.allowPrivateAddresses)
    }

    @Test("setting a path creates its maps, merging keeps the other keys, nil removes")
    func pathsMergeAndRemove() throws {
        var configuration = GatewayYAML.local()
        configuration["delivery", "poll-interval"] = "50ms"
        configuration.merge(["delivery": ["max-attempts": 3], "outbound": ["allow-private-addresses": false]])
        configuration["remote-domains", "peer.test", "uri"] = "https://peer.test/ischedule"
        let loaded = try load(configuration)
        #expect(loaded.delivery.pollInterval == 0.05)
        #expect(loaded.delivery.maxAttempts == 3)
        #expect(!loaded.allowPrivateAddresses)
        #expect(loaded.intake.allowFrom.map(\.description) == ["127.0.0.1"])
        #expect(loaded.remotes.map(\.uri) == ["https://peer.test/ischedule"])
        configuration["remote-domains"] = nil
        #expect(try load(configuration).remotes.isEmpty)
        #expect(configuration["delivery", "poll-interval"] == "50ms")
    }

    @Test("scalars YAML would read differently are quoted and read back unchanged")
    func quotingRoundTrips() throws {
        let odd = [
            "a: b", "#x", "*", "- y", "{z}", "[w]", "q\"uote", "back\\slash", "trailing:", " lead", "&anchor", "!tag", "true", "0x10",
            "tab\there", "ok@alpha.test"
        ]
        for text in odd {
            var configuration = GatewayYAML.local()
            configuration["outbound", "secret"] = .scalar(text)
            #expect(try load(configuration).intake.secret == text, "written as \(configuration.text)")
        }
    }
}
