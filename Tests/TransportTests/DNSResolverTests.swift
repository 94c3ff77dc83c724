import DKIM
import Foundation
import Synchronization
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// A clock the test moves by hand, to expire cache entries without sleeping.
final class ManualClock: UnixClock {
    private let time = Mutex<Int64>(1_700_000_000)
    func now() -> Int64 { time.withLock { $0 } }
    func advance(_ seconds: Int64) { time.withLock { $0 += seconds } }
}

@Suite(.serialized, .waitsOnProcesses) struct DNSResolverTests {
    static let zone = """
        @ IN SOA ns.gateway.test. admin.gateway.test. 1 3600 900 1209600 60
        @ IN NS ns.gateway.test.
        ns IN A 127.0.0.1
        _ischedules._tcp 120 IN SRV 10 60 8443 a.gateway.test.
        _ischedules._tcp 120 IN SRV 10 0 8444 b.gateway.test.
        _ischedules._tcp 120 IN SRV 20 0 8445 c
        _ischedule._tcp.none IN SRV 0 0 0 .
        sel._domainkey IN TXT "v=DKIM1; k=rsa; " "p=abc"
        only-a IN A 127.0.0.2
        big IN TXT \(String(repeating: "\"" + String(repeating: "x", count: 250) + "\" ", count: 6))
        """

    static func resolver(_ server: TestDNSServer, clock: any UnixClock = SystemUnixClock()) -> DNSResolver {
        DNSResolver(
            configuration: DNSResolverConfiguration(servers: [.init(server.server)!], timeoutSeconds: 2, attempts: 1),
            clock: clock)
    }

    @Test func srvRecordsWithTTLAndExpandedTargets() async throws {
        let server = try TestDNSServer(zones: ["gateway.test": Self.zone])
        defer { server.stop() }
        let answer = try await Self.resolver(server).srv("_ischedules._tcp.gateway.test")
        #expect(
            Set(answer.records) == [
                SRVRecord(priority: 10, weight: 60, port: 8443, target: "a.gateway.test"),
                SRVRecord(priority: 10, weight: 0, port: 8444, target: "b.gateway.test"),
                SRVRecord(priority: 20, weight: 0, port: 8445, target: "c.gateway.test")
            ])
        #expect(answer.ttl == 120)
        let none = try await Self.resolver(server).srv("_ischedule._tcp.none.gateway.test.")
        #expect(none.records == [SRVRecord(priority: 0, weight: 0, port: 0, target: "")])
    }

    @Test func txtStringsAreConcatenatedAndALongRecordArrivesWholeOverTCP() async throws {
        let server = try TestDNSServer(zones: ["gateway.test": Self.zone])
        defer { server.stop() }
        let resolver = Self.resolver(server)
        #expect(try await resolver.txt("sel._domainkey.gateway.test").records == ["v=DKIM1; k=rsa; p=abc"])
        let big = try await resolver.txt("big.gateway.test")
        #expect(big.records == [String(repeating: "x", count: 1_500)])
    }

    @Test func negativeAnswersAreDistinguished() async throws {
        let server = try TestDNSServer(zones: ["gateway.test": Self.zone])
        defer { server.stop() }
        let resolver = Self.resolver(server)
        await #expect(throws: DNSError.nameDoesNotExist("missing.gateway.test")) { try await resolver.txt("missing.gateway.test") }
        await #expect(throws: DNSError.noData("only-a.gateway.test")) { try await resolver.srv("only-a.gateway.test") }
        // NSD refuses names outside its zones: a server failure, which is temporary.
        do {
            _ = try await resolver.txt("example.org")
            Issue.record("expected a failure")
        } catch {
            #expect(error == .serverFailure("example.org", rcode: 5))
            #expect(error.isTemporary)
        }
        await #expect(throws: DNSError.invalidName("bad name..test")) { try await resolver.txt("bad name..test") }
    }

    @Test func silentServerTimesOut() async throws {
        let resolver = DNSResolver(
            configuration: DNSResolverConfiguration(
                servers: [.init("127.0.0.1:\(freeLoopbackPort())")!],
                timeoutSeconds: 1, attempts: 1))
        do {
            _ = try await resolver.txt("anything.gateway.test")
            Issue.record("expected a timeout")
        } catch {
            #expect(error == .timeout("anything.gateway.test") && error.isTemporary)
        }
    }

    @Test func concurrentLookupsOfOneNameShareOneQuery() async throws {
        let port = freeLoopbackPort()
        let witness = try IsolatedNamespace.loopbackRecorder(dns: ["127.0.0.1:\(port)"])
        defer { witness.stop() }
        let resolver = DNSResolver(configuration: DNSResolverConfiguration(servers: [.init("127.0.0.1:\(port)")!], timeoutSeconds: 1, attempts: 1))
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { (try? await resolver.addresses(of: "burst.gateway.test")) == nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 20)
        // One A and one AAAA query for twenty callers (the silent server answers none of them).
        let queries = witness.log.split(separator: "\n").filter { $0 == "query burst.gateway.test" }
        #expect(queries.count == 2, "\(witness.log)")
    }

    @Test func answersAreCachedForTheirTTLAndNegativeAnswersBriefly() async throws {
        let server = try TestDNSServer(zones: ["gateway.test": Self.zone])
        let clock = ManualClock()
        let resolver = Self.resolver(server, clock: clock)
        let first = try await resolver.srv("_ischedules._tcp.gateway.test")
        await #expect(throws: DNSError.self) { try await resolver.txt("missing.gateway.test") }
        server.stop()
        clock.advance(59)
        #expect(try await resolver.srv("_ischedules._tcp.gateway.test") == first)
        await #expect(throws: DNSError.nameDoesNotExist("missing.gateway.test")) { try await resolver.txt("missing.gateway.test") }
        clock.advance(2)  // past the 60 s negative TTL, within the 120 s SRV TTL
        #expect(try await resolver.srv("_ischedules._tcp.gateway.test") == first)
        await #expect(throws: DNSError.timeout("missing.gateway.test")) { try await resolver.txt("missing.gateway.test") }
        clock.advance(60)
        await #expect(throws: DNSError.timeout("_ischedules._tcp.gateway.test")) { try await resolver.srv("_ischedules._tcp.gateway.test") }
    }

    @Test func appleZoneVectors() async throws {
        let zone = try Fixtures.text("apple-test-zone-db.example.com.txt")
        let empty = try Fixtures.text("apple-test-zone-db.empty.zone.txt")
        let server = try TestDNSServer(zones: ["example.com": zone])
        defer { server.stop() }
        let resolver = Self.resolver(server)
        let cases = try Fixtures.json("apple-test_utils-dns-lookups.json")
        for item in (cases["srv"] as! [String: Any])["cases"] as! [[String: Any]]
        where item["zone"] as! String == "apple-test-zone-db.example.com.txt" {
            let answer = try await resolver.srv("_ischedules._tcp.\(item["domain"] as! String)")
            #expect(answer.records.first?.target == item["host"] as? String)
            #expect(answer.records.first.map { Int($0.port) } == item["port"] as? Int)
        }
        for item in (cases["txt"] as! [String: Any])["cases"] as! [[String: Any]]
        where item["zone"] as! String == "apple-test-zone-db.example.com.txt" {
            #expect(try await resolver.txt(item["name"] as! String).records == item["result"] as! [String])
        }
        let emptyServer = try TestDNSServer(zones: ["example.com": empty])
        defer { emptyServer.stop() }
        await #expect(throws: DNSError.noData("_ischedules._tcp.example.com")) {
            try await Self.resolver(emptyServer).srv("_ischedules._tcp.example.com")
        }
    }

    @Test func serverSyntax() {
        #expect(DNSResolverConfiguration.Server("127.0.0.1:5300")?.port == 5300)
        #expect(DNSResolverConfiguration.Server("10.0.0.1")?.port == 53)
        #expect(DNSResolverConfiguration.Server("::1") == nil)
        #expect(DNSResolverConfiguration.Server("127.0.0.1:0") == nil)
        #expect(DNSResolverConfiguration.Server("host.example:53") == nil)
    }
}

@Suite(.serialized, .waitsOnProcesses) struct DNSFailoverTests {
    @Test func aSilentOrFailingServerIsSkippedForTheNextOne() async throws {
        let refusing = try TestDNSServer(zones: [
            "other.test": "@ IN SOA ns.other.test. a.other.test. 1 3600 900 1209600 60\n@ IN NS ns.other.test.\nns IN A 127.0.0.1"
        ])
        let serving = try TestDNSServer(zones: ["gateway.test": DNSResolverTests.zone])
        defer {
            refusing.stop()
            serving.stop()
        }
        let silent = DNSResolverConfiguration.Server("127.0.0.1:\(freeLoopbackPort())")!
        let resolver = DNSResolver(
            configuration: DNSResolverConfiguration(
                servers: [silent, .init(refusing.server)!, .init(serving.server)!], timeoutSeconds: 1, attempts: 1))
        #expect(try await resolver.txt("sel._domainkey.gateway.test").records == ["v=DKIM1; k=rsa; p=abc"])
        let failing = DNSResolver(
            configuration: DNSResolverConfiguration(
                servers: [.init(refusing.server)!, silent],
                timeoutSeconds: 1, attempts: 1))
        await #expect(throws: DNSError.serverFailure("sel._domainkey.gateway.test", rcode: 5)) {
            try await failing.txt("sel._domainkey.gateway.test")
        }
    }
}
