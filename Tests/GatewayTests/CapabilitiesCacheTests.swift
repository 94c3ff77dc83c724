import DKIM
import Foundation
import Synchronization
import TestSupport
import TestTraits
import Testing
import Transport

@testable import Gateway

/// §13 checks 11 and 12 (fetch, dialects, serial refresh) and RFC 2782 failover, live over TLS.
@Suite(.serialized, .waitsOnProcesses) struct CapabilitiesCacheTests {
    final class ManualClock: UnixClock {
        private let time = Mutex<Int64>(1_000)
        func now() -> Int64 { time.withLock { $0 } }
        func advance(_ seconds: Int64) { time.withLock { $0 += seconds } }
    }

    struct Setup {
        let server: TestHTTPSServer
        let docroot: URL
        let cache: CapabilitiesCache
        let clock: ManualClock
        var receiver: String { "https://localhost:\(server.port)/.well-known/ischedule" }
    }

    static func setup(document: String, serial: String, maxAge: String? = nil) throws -> Setup {
        let certificates = try TestCertificates()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
        let docroot = certificates.directory.appendingPathComponent("docroot")
        try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("ischedule/\(document)"),
            to: docroot.appendingPathComponent("capabilities.xml"))
        try serial.write(to: docroot.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        if let maxAge { try maxAge.write(to: docroot.appendingPathComponent("max-age"), atomically: true, encoding: .utf8) }
        let server = try TestHTTPSServer(cert: cert, key: key, keyDirectory: docroot.path)
        let clock = ManualClock()
        let client = HTTPClient(configuration: HTTPClientConfiguration(caFile: certificates.caFile, connectTimeoutMilliseconds: 2_000))
        return Setup(
            server: server, docroot: docroot, cache: CapabilitiesCache(client: client, clock: clock, addressPolicy: .any),
            clock: clock)
    }

    @Test func fetchedOnceAndKeptForMaxAge() async throws {
        let setup = try Self.setup(document: "apple-capabilities.xml", serial: "1", maxAge: "60")
        defer { setup.server.stop() }
        let entry = try await setup.cache.capabilities(at: setup.receiver)
        #expect(entry.receiver == setup.receiver)
        #expect(entry.capabilities.supports(component: "VEVENT", method: "REQUEST") && entry.capabilities.maxRecipients == 100)
        _ = try await setup.cache.capabilities(at: setup.receiver)
        #expect(setup.server.requests.count == 1)
        setup.clock.advance(61)
        _ = try await setup.cache.capabilities(at: setup.receiver)
        #expect(setup.server.requests == Array(repeating: "GET /.well-known/ischedule?action=capabilities", count: 2))
    }

    @Test func aDifferentAdvertisedSerialForcesARefetch() async throws {
        let setup = try Self.setup(document: "cyrus-capabilities.xml", serial: "1795544191")
        defer { setup.server.stop() }
        let first = try await setup.cache.capabilities(at: setup.receiver)
        #expect(first.capabilities.serialNumber == "1795544191" && first.capabilities.maxRecipients == nil)
        #expect(!setup.cache.noteAdvertisedSerial("1795544191", for: setup.receiver))
        _ = try await setup.cache.capabilities(at: setup.receiver)
        #expect(setup.server.requests.count == 1)
        #expect(setup.cache.noteAdvertisedSerial("1795544192", for: setup.receiver))
        _ = try await setup.cache.capabilities(at: setup.receiver)
        #expect(setup.server.requests.count == 2)
    }

    @Test func permanentRedirectMovesTheReceiver() async throws {
        let setup = try Self.setup(document: "apple-capabilities.xml", serial: "1")
        defer { setup.server.stop() }
        let moved = "https://localhost:\(setup.server.port)/moved/.well-known/ischedule"
        let entry = try await setup.cache.capabilities(at: moved)
        #expect(entry.receiver == setup.receiver)
        #expect(
            setup.server.requests == [
                "GET /moved/.well-known/ischedule?action=capabilities",
                "GET /.well-known/ischedule?action=capabilities"
            ])
    }

    @Test func aDraft01ReceiverIsAskedByQueryAndRemembered() async throws {
        let setup = try Self.setup(document: "davical-capability-set.xml", serial: "1", maxAge: "60")
        defer { setup.server.stop() }
        try "".write(to: setup.docroot.appendingPathComponent("draft01"), atomically: true, encoding: .utf8)
        let entry = try await setup.cache.capabilities(at: setup.receiver)
        #expect(entry.dialect == .draft01)
        #expect(entry.capabilities.supports(component: "VEVENT", method: "REQUEST") && entry.capabilities.maxRecipients == 250)
        #expect(setup.server.requests == ["GET /.well-known/ischedule?action=capabilities", "GET /.well-known/ischedule?query=capabilities"])
        _ = try await setup.cache.capabilities(at: setup.receiver)
        #expect(setup.server.requests.count == 2)
        // A draft-05 receiver is asked once, the modern way.
        let modern = try Self.setup(document: "cyrus-capabilities.xml", serial: "1")
        defer { modern.server.stop() }
        #expect(try await modern.cache.capabilities(at: modern.receiver).dialect == .draft05)
        #expect(modern.server.requests == ["GET /.well-known/ischedule?action=capabilities"])
    }

    @Test func failoverSkipsADeadFirstTarget() async throws {
        let setup = try Self.setup(document: "apple-capabilities.xml", serial: "1")
        defer { setup.server.stop() }
        let dead = ReceiverDiscovery.Candidate(
            url: "https://localhost:\(freeLoopbackPort())/.well-known/ischedule",
            origin: .srvTLS, srv: nil)
        let live = ReceiverDiscovery.Candidate(url: setup.receiver, origin: .srvTLS, srv: nil)
        let (candidate, entry) = try await setup.cache.firstReachable([dead, live])
        #expect(candidate == live && entry.capabilities.versions == ["1.0"])
        await #expect { try await setup.cache.firstReachable([dead]) } throws: { error in
            guard case .noneReachable(let failures) = error as? CapabilitiesError else { return false }
            return failures.count == 1 && failures[0].description.contains("could not connect")
        }
    }

    @Test func relativeLocationsResolveAgainstTheRequest() {
        #expect(
            Redirects.resolve("/ischedule?action=capabilities", against: "https://a.example:8443/.well-known/ischedule?action=capabilities")
                == "https://a.example:8443/ischedule?action=capabilities")
        #expect(Redirects.resolve("https://b.example/x", against: "https://a.example/y") == "https://b.example/x")
    }
}
