import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// `dns.dnssec: validate` against real parts: NSD serving zones signed by ldns-signzone, unbound
/// validating in front of it.
@Suite(.serialized, .waitsOnProcesses) struct DNSSECResolverTests {
    static func zone(_ name: String) -> String {
        zoneHead(name) + """
            _ischedules._tcp IN SRV 0 0 8443 host.\(name).
            host IN A 127.0.0.1
            _8443._tcp.host IN TLSA 3 1 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
            sel._domainkey IN TXT "v=DKIM1; k=rsa; p=abc"
            """
    }

    static func resolver(_ dns: TestValidatingDNS, validates: Bool = true) -> DNSResolver {
        DNSResolver(
            configuration: DNSResolverConfiguration(servers: [.init(dns.server)!], timeoutSeconds: 2, attempts: 1, validatesDNSSEC: validates))
    }

    @Test func answersFromASignedZoneAreSecure() async throws {
        let dns = try TestValidatingDNS(zones: ["secure.test": .init(Self.zone("secure.test"), .signed)])
        defer { dns.stop() }
        let resolver = Self.resolver(dns)
        let srv = try await resolver.srv("_ischedules._tcp.secure.test")
        #expect(srv.secure && srv.records == [SRVRecord(priority: 0, weight: 0, port: 8443, target: "host.secure.test")])
        let tlsa = try await resolver.tlsa("_8443._tcp.host.secure.test")
        #expect(tlsa.secure)
        #expect(tlsa.records.map(\.description) == ["3 1 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"])
        #expect(tlsa.records.allSatisfy { $0.isUsable })
        let txt = try await resolver.txt("sel._domainkey.secure.test")
        let addresses = try await resolver.addresses("host.secure.test")
        #expect(txt.secure && addresses.secure)
    }

    @Test func answersFromAnUnsignedZoneAreInsecure() async throws {
        let dns = try TestValidatingDNS(zones: ["plain.test": .init(Self.zone("plain.test"), .unsigned)])
        defer { dns.stop() }
        let srv = try await Self.resolver(dns).srv("_ischedules._tcp.plain.test")
        #expect(!srv.secure && srv.records.count == 1)
    }

    /// The AD bit is believed only under `dns.dnssec: validate`: the same validator's answer is
    /// insecure to a resolver that does not ask.
    @Test func theADBitCountsOnlyWhenValidating() async throws {
        let dns = try TestValidatingDNS(zones: ["secure.test": .init(Self.zone("secure.test"), .signed)])
        defer { dns.stop() }
        let srv = try await Self.resolver(dns, validates: false).srv("_ischedules._tcp.secure.test")
        #expect(!srv.secure && srv.records.count == 1)
        // Straight from the authoritative server (no validator): never secure.
        let direct = DNSResolver(
            configuration: DNSResolverConfiguration(servers: [.init(dns.authoritative.server)!], timeoutSeconds: 2, validatesDNSSEC: true))
        let unvalidated = try await direct.srv("_ischedules._tcp.secure.test")
        #expect(!unvalidated.secure)
    }

    /// A signature broken on purpose: the validator answers SERVFAIL, which is a temporary
    /// failure, never "no records".
    @Test func aBogusZoneIsATemporaryFailure() async throws {
        let dns = try TestValidatingDNS(zones: ["bogus.test": .init(Self.zone("bogus.test"), .bogus)])
        defer { dns.stop() }
        let resolver = Self.resolver(dns)
        for lookup in ["srv", "tlsa", "txt"] {
            let result = await Result { () async throws(DNSError) -> Bool in
                switch lookup {
                case "srv": try await resolver.srv("_ischedules._tcp.bogus.test").secure
                case "tlsa": try await resolver.tlsa("_8443._tcp.host.bogus.test").secure
                default: try await resolver.txt("sel._domainkey.bogus.test").secure
                }
            }
            guard case .failure(let error) = result else {
                Issue.record("\(lookup) of a bogus zone answered: \(result)")
                continue
            }
            #expect(error.isTemporary && !error.meansNoRecords, "\(lookup): \(error)")
            // unbound says why (RFC 8914): the answer is bogus, not the server broken.
            guard case .bogus(_, let ede) = error else {
                Issue.record("\(lookup): expected an extended DNS error, got \(error)")
                continue
            }
            #expect((6...12).contains(ede))
        }
        // The authoritative server still serves the records: the validator refused them.
        let direct = DNSResolver(configuration: DNSResolverConfiguration(servers: [.init(dns.authoritative.server)!], timeoutSeconds: 2))
        let published = try await direct.srv("_ischedules._tcp.bogus.test")
        #expect(published.records.count == 1)
    }

    /// A validator's SERVFAIL is not asked again elsewhere: a second, non-validating server would
    /// turn the bogus answer into an insecure one.
    @Test func aBogusAnswerIsNotAskedOfTheNextServer() async throws {
        let dns = try TestValidatingDNS(zones: ["bogus.test": .init(Self.zone("bogus.test"), .bogus)])
        defer { dns.stop() }
        let servers: [DNSResolverConfiguration.Server] = [.init(dns.server)!, .init(dns.authoritative.server)!]
        let validating = DNSResolver(configuration: DNSResolverConfiguration(servers: servers, timeoutSeconds: 2, attempts: 1, validatesDNSSEC: true))
        let result = await Result { () async throws(DNSError) -> Int in try await validating.srv("_ischedules._tcp.bogus.test").records.count }
        guard case .failure(.bogus) = result else { throw ChildProcessError("expected the validator's SERVFAIL, got \(result)") }
        // Without validation a server failure still moves on (the second server answers).
        let plain = DNSResolver(configuration: DNSResolverConfiguration(servers: servers, timeoutSeconds: 2, attempts: 1))
        #expect(try await plain.srv("_ischedules._tcp.bogus.test").records.count == 1)
    }

    @Test func untrustedValidators() {
        #expect(DNSResolverConfiguration.untrustedValidators(["127.0.0.1", "127.0.0.53", "::1"], trusted: []).isEmpty)
        #expect(DNSResolverConfiguration.untrustedValidators(["10.0.0.53", "192.0.2.1"], trusted: ["192.0.2.1"]) == ["10.0.0.53"])
    }
}
