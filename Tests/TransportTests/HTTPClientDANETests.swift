import Foundation
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// Requests carrying a DANE requirement are verified by their TLSA records through OpenSSL's DANE
/// verifier, against a real TLS server.
@Suite(.serialized, .waitsOnProcesses) struct HTTPClientDANETests {
    static let certificates = Result { try TestCertificates() }

    static func record(_ text: String, usage: UInt8 = 3, selector: UInt8 = 1, matching: UInt8 = 1) -> TLSARecord {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return TLSARecord(usage: usage, selector: selector, matchingType: matching, data: bytes)
    }

    /// The client trusts the test CA, so a WebPKI success would also be a success: the checks
    /// below use certificates that only DANE can accept, or show DANE refusing what WebPKI accepts.
    static func client() throws -> HTTPClient {
        HTTPClient(configuration: HTTPClientConfiguration(caFile: try certificates.get().caFile, connectTimeoutMilliseconds: 2_000))
    }

    static func request(_ port: UInt16, _ records: [TLSARecord], host: String = "localhost") -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "https://localhost:\(port)/ok", addressPolicy: .any)
        request.dane = DANERequirement(host: host, port: port, records: records)
        return request
    }

    @Test func daneEEAcceptsASelfSignedCertificateByItsKeyOrWholeCertificate() async throws {
        let (cert, key) = try Self.certificates.get().selfSigned("receiver.example", subjectAltNames: ["DNS:receiver.example"])
        let server = try TestHTTPSServer(cert: cert, key: key)
        defer { server.stop() }
        let client = try Self.client()
        defer { client.shutdown() }
        // Without DANE: a certificate no CA signed, for another name: refused.
        let plain = await Result { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(url: "https://localhost:\(server.port)/ok", addressPolicy: .any))
        }
        guard case .failure(.tls) = plain else { throw ChildProcessError("WebPKI accepted a self-signed certificate: \(plain)") }
        for (selector, matching) in [(1, 1), (0, 1), (1, 2)] {
            let data = try TestCertificates.tlsaData(cert, selector: selector, matching: matching)
            let record = Self.record(data, selector: UInt8(selector), matching: UInt8(matching))
            let response = try await client.send(Self.request(server.port, [record]))
            #expect(response.status == 200, "3 \(selector) \(matching)")
        }
    }

    /// A TLS server with a self-signed certificate (or one the test CA issued for localhost), a
    /// client, and another certificate whose records must never match the server's.
    struct Lab {
        let server: TestHTTPSServer
        let client: HTTPClient
        let cert: String
        let other: String
        func stop() {
            server.stop()
            client.shutdown()
        }
    }

    static func lab(caIssued: Bool = false) throws -> Lab {
        let certificates = try Self.certificates.get()
        let (cert, key) =
            caIssued
            ? try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
            : try certificates.selfSigned("receiver.example", subjectAltNames: ["DNS:receiver.example"])
        let (other, _) = try certificates.selfSigned("other.example", subjectAltNames: ["DNS:other.example"])
        return Lab(server: try TestHTTPSServer(cert: cert, key: key), client: try client(), cert: cert, other: other)
    }

    @Test func aTLSARecordThatDoesNotMatchRefusesEvenACertificateTheCAVouchesFor() async throws {
        let lab = try Self.lab(caIssued: true)
        defer { lab.stop() }
        let (server, client, cert, other) = (lab.server, lab.client, lab.cert, lab.other)
        let wrong = Self.record(try TestCertificates.tlsaData(other))
        let result = await Result { () async throws(HTTPClientError) in try await client.send(Self.request(server.port, [wrong])) }
        guard case .failure(.daneMismatch(let detail)) = result else { throw ChildProcessError("expected a DANE mismatch, got \(result)") }
        #expect(detail.contains("localhost:\(server.port) matches none of its 1 TLSA record at _\(server.port)._tcp.localhost"), "\(detail)")
        // The same server, the right record: delivered.
        let right = Self.record(try TestCertificates.tlsaData(cert))
        #expect(try await client.send(Self.request(server.port, [wrong, right])).status == 200)
    }

    /// DANE-TA(2): the CA named by the record vouches for the chain the server presents (leaf
    /// and CA), and the leaf must carry the name; the client's own trust store plays no part.
    @Test func daneTANeedsTheChainAndTheName() async throws {
        let certificates = try Self.certificates.get()
        // A client that trusts some other CA: only the TLSA record makes the test CA an anchor.
        let client = HTTPClient(configuration: HTTPClientConfiguration(caFile: try TestCertificates().caFile, connectTimeoutMilliseconds: 2_000))
        defer { client.shutdown() }
        let anchor = Self.record(try TestCertificates.tlsaData(certificates.caFile, selector: 0, matching: 1), usage: 2, selector: 0)
        let ca = try String(contentsOfFile: certificates.caFile, encoding: .utf8)
        for (name, chained, delivers) in [("localhost", true, true), ("wrong.example", true, false), ("localhost", false, false)] {
            let (leaf, key) = try certificates.issue(name, subjectAltNames: ["DNS:\(name)"])
            let chain = leaf + ".chain"
            try (try String(contentsOfFile: leaf, encoding: .utf8) + (chained ? ca : "")).write(toFile: chain, atomically: true, encoding: .utf8)
            let server = try TestHTTPSServer(cert: chain, key: key)
            defer { server.stop() }
            let result = await Result { () async throws(HTTPClientError) in try await client.send(Self.request(server.port, [anchor])) }
            switch result {
            case .success(let response): #expect(delivers && response.status == 200, "\(name), chained \(chained)")
            case .failure(.daneMismatch): #expect(!delivers, "\(name), chained \(chained)")
            case .failure(let error): Issue.record("\(name), chained \(chained): \(error)")
            }
        }
    }

    /// A record OpenSSL cannot use (a Full(0) record that is no certificate) beside one that does
    /// not match: still a DANE mismatch, not a generic TLS error; and only unusable records: the same.
    @Test func aMismatchIsAMismatchWhateverElseTheSetHolds() async throws {
        let lab = try Self.lab()
        defer { lab.stop() }
        let (server, client, other) = (lab.server, lab.client, lab.other)
        let garbage = TLSARecord(usage: 3, selector: 0, matchingType: 0, data: [0x30, 0x03, 0x02, 0x01, 0x00])
        let wrong = Self.record(try TestCertificates.tlsaData(other))
        for records in [[garbage, wrong], [garbage]] {
            let result = await Result { () async throws(HTTPClientError) in try await client.send(Self.request(server.port, records)) }
            guard case .failure(.daneMismatch) = result else {
                throw ChildProcessError("\(records.count) record(s): expected a DANE mismatch, got \(result)")
            }
        }
    }

    /// Each DANE transfer has a connection of its own: after the records change (a rollover, a
    /// revocation), a connection the old records authenticated is not reused.
    @Test func aConnectionIsNeverReusedUnderOtherRecords() async throws {
        let lab = try Self.lab()
        defer { lab.stop() }
        let (server, client, cert, other) = (lab.server, lab.client, lab.cert, lab.other)
        #expect(try await client.send(Self.request(server.port, [Self.record(try TestCertificates.tlsaData(cert))])).status == 200)
        let revoked = [Self.record(try TestCertificates.tlsaData(other))]
        let result = await Result { () async throws(HTTPClientError) in try await client.send(Self.request(server.port, revoked)) }
        guard case .failure(.daneMismatch) = result else { throw ChildProcessError("the old connection answered: \(result)") }
    }

    @Test func baseOfAnHTTPSURLIsReadAsLibcurlReadsIt() {
        #expect(
            DANERequirement.base(of: "https://RX.Partner.test:8443/.well-known/ischedule").map { "\($0.host):\($0.port)" } == "rx.partner.test:8443")
        #expect(DANERequirement.base(of: "https://rx.partner.test/ischedule")?.port == 443)
        #expect(DANERequirement.base(of: "http://rx.partner.test/ischedule") == nil)
        #expect(DANERequirement.base(of: "https://[::1]:8443/") == nil && DANERequirement.base(of: "https://127.0.0.1/") == nil)
    }

    @Test func tlsaRecordsAreUsableOnlyWithTheirDigestsLength() {
        #expect(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)
        #expect(!TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 20)).isUsable)
        #expect(TLSARecord(usage: 2, selector: 0, matchingType: 2, data: Array(repeating: 1, count: 64)).isUsable)
        #expect(!TLSARecord(usage: 2, selector: 0, matchingType: 2, data: Array(repeating: 1, count: 32)).isUsable)
        #expect(!TLSARecord(usage: 1, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)
    }

    @Test func aRequirementAuthenticatesOnlyItsOwnHostAndPort() async throws {
        let client = try Self.client()
        defer { client.shutdown() }
        let record = Self.record(String(repeating: "ab", count: 32))
        let result = await Result { () async throws(HTTPClientError) in try await client.send(Self.request(8443, [record], host: "elsewhere.example"))
        }
        guard case .failure(.invalidRequest(let detail)) = result else { throw ChildProcessError("expected a refusal, got \(result)") }
        #expect(detail.contains("1 TLSA record at _8443._tcp.elsewhere.example cannot authenticate https://localhost:8443/ok"))
        #expect(DANERequirement(host: "x.example", port: 443, records: [TLSARecord(usage: 1, selector: 1, matchingType: 1, data: [1])]) == nil)
    }
}
