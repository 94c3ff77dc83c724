import TestSupport
import TestTraits
import Testing
import Transport

@testable import Gateway

/// §13 checks 1, 2, 4 and 5 against a real DNS server.
@Suite(.serialized, .waitsOnProcesses) struct ReceiverDiscoveryTests {
    typealias Outcome = ReceiverDiscovery.Outcome

    static let zones = [
        "both.test": """
        @ IN SOA ns.both.test. a.both.test. 1 3600 900 1209600 60
        @ IN NS ns.both.test.
        _ischedules._tcp IN SRV 0 10 8443 isched.both.test.
        _ischedules._tcp IN SRV 5 10 9443 backup.both.test.
        _ischedule._tcp IN SRV 0 10 8008 isched.both.test.
        """,
        "plain.test": """
        @ IN SOA ns.plain.test. a.plain.test. 1 3600 900 1209600 60
        @ IN NS ns.plain.test.
        _ischedule._tcp IN SRV 0 0 8008 isched.plain.test.
        """,
        "refuses.test": """
        @ IN SOA ns.refuses.test. a.refuses.test. 1 3600 900 1209600 60
        @ IN NS ns.refuses.test.
        _ischedules._tcp IN SRV 0 0 0 .
        _ischedule._tcp IN SRV 0 0 8008 isched.refuses.test.
        """,
        "none.test": """
        @ IN SOA ns.none.test. a.none.test. 1 3600 900 1209600 60
        @ IN NS ns.none.test.
        @ IN A 127.0.0.1
        """
    ]

    static func discovery(
        _ server: TestDNSServer, overrides: [String: String] = [:], policies: [String: TLSPolicy] = [:], defaultPolicy: TLSPolicy = .verify
    ) -> ReceiverDiscovery {
        ReceiverDiscovery(
            resolver: DNSResolver(configuration: .init(servers: [.init(server.server)!], timeoutSeconds: 1, attempts: 1)),
            overrides: overrides, policies: policies, defaultPolicy: defaultPolicy)
    }

    @Test func tlsRecordsWinAndAreOrderedByPriority() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        let outcome = try await Self.discovery(server).locate(domain: "Both.Test")
        #expect(
            outcome
                == .receivers([
                    .init(
                        url: "https://isched.both.test:8443/.well-known/ischedule", origin: .srvTLS,
                        srv: SRVRecord(priority: 0, weight: 10, port: 8443, target: "isched.both.test")),
                    .init(
                        url: "https://backup.both.test:9443/.well-known/ischedule", origin: .srvTLS,
                        srv: SRVRecord(priority: 5, weight: 10, port: 9443, target: "backup.both.test"))
                ]))
    }

    @Test("tls-policy may: plain _ischedule._tcp is used, and only without _ischedules records")
    func plainSRVIsUsedUnderMayOnlyWithoutTLSRecords() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        guard case .receivers(let candidates) = try await Self.discovery(server, defaultPolicy: .may).locate(domain: "plain.test") else {
            Issue.record("no receivers")
            return
        }
        #expect(candidates.map(\.url) == ["http://isched.plain.test:8008/.well-known/ischedule"])
        #expect(candidates.first?.origin == .srvPlain)
        guard case .receivers(let both) = try await Self.discovery(server, defaultPolicy: .may).locate(domain: "both.test") else {
            Issue.record("no receivers")
            return
        }
        #expect(both.allSatisfy { $0.origin == .srvTLS }, "\(both)")
    }

    @Test("tls-policy verify (the default): a domain with only plain _ischedule._tcp has no iSchedule, and the reason says why")
    func plaintextSRVIsRefusedUnderVerify() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        let refused = Outcome.noISchedule(
            reason: "plaintext iSchedule refused by tls-policy verify (plain.test publishes only _ischedule._tcp, plain http)")
        #expect(try await Self.discovery(server).locate(domain: "plain.test") == refused)
        // A domain's own policy wins over the default, both ways.
        #expect(try await Self.discovery(server, policies: ["plain.test": .verify], defaultPolicy: .may).locate(domain: "plain.test") == refused)
        let allowed = try await Self.discovery(server, policies: ["Plain.Test": .may]).locate(domain: "plain.test")
        #expect(allowed != refused)
    }

    @Test("tls-policy verify: a configured http receiver is refused, an https one used")
    func httpOverrideIsRefusedUnderVerify() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        let overrides = ["plain.test": "http://127.0.0.1:8008/ischedule", "both.test": "HTTPS://pinned.example/ischedule"]
        #expect(
            try await Self.discovery(server, overrides: overrides).locate(domain: "plain.test")
                == .noISchedule(
                    reason: "plaintext iSchedule refused by tls-policy verify (plain.test's receiver http://127.0.0.1:8008/ischedule is http)"))
        #expect(
            try await Self.discovery(server, overrides: overrides).locate(domain: "both.test")
                == .receivers([.init(url: "HTTPS://pinned.example/ischedule", origin: .staticOverride, srv: nil)]))
        #expect(
            try await Self.discovery(server, overrides: overrides, defaultPolicy: .may).locate(domain: "plain.test")
                == .receivers([.init(url: "http://127.0.0.1:8008/ischedule", origin: .staticOverride, srv: nil)]))
    }

    @Test func aLoneDotMeansNoServiceAndNoDowngrade() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        #expect(
            try await Self.discovery(server).locate(domain: "refuses.test")
                == .noISchedule(reason: "_ischedules._tcp.refuses.test publishes '.' (service not offered)"))
    }

    @Test func withoutSRVThereIsNoISchedule() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        #expect(
            try await Self.discovery(server).locate(domain: "none.test")
                == .noISchedule(reason: "no _ischedules._tcp or _ischedule._tcp SRV records for none.test"))
        // A name outside every zone: NSD refuses, which is temporary, so no fallback decision is made.
        await #expect(throws: DNSError.serverFailure("_ischedules._tcp.elsewhere.example", rcode: 5)) {
            try await Self.discovery(server).locate(domain: "elsewhere.example")
        }
    }

    @Test func staticOverrideBeatsDNS() async throws {
        let server = try TestDNSServer(zones: Self.zones)
        defer { server.stop() }
        let overrides = ["both.test": "https://pinned.example:7443/ischedule"]
        #expect(
            try await Self.discovery(server, overrides: overrides).locate(domain: "BOTH.test.")
                == .receivers([.init(url: "https://pinned.example:7443/ischedule", origin: .staticOverride, srv: nil)]))
    }
}
