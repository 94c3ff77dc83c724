import DKIM
import Foundation
import Synchronization
import TestSupport
import TestTraits
import Testing

@testable import Transport

/// The test servers listen on loopback, which requests must allow explicitly (the default refuses it).
func loopback(_ request: HTTPClientRequest) -> HTTPClientRequest {
    var request = request
    request.addressPolicy = .any
    return request
}

/// The libcurl client against a real TLS server with a CA the test generated.
@Suite(.serialized, .waitsOnProcesses) struct HTTPClientTests {
    static let certificates = Result { try TestCertificates() }

    struct Fixture {
        let server: TestHTTPSServer
        let client: HTTPClient
        var base: String { "https://localhost:\(server.port)" }
    }

    static func fixture(_ configure: (inout HTTPClientConfiguration) -> Void = { _ in }) throws -> Fixture {
        let certificates = try certificates.get()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        var configuration = HTTPClientConfiguration(
            caFile: certificates.caFile, connectTimeoutMilliseconds: 2_000,
            totalTimeoutMilliseconds: 10_000)
        configure(&configuration)
        return Fixture(server: try TestHTTPSServer(cert: cert, key: key), client: HTTPClient(configuration: configuration))
    }

    @Test func getAndPostOverVerifiedTLS() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let response = try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/ok")))
        #expect(response.status == 200 && response.body == Array("hello".utf8))
        #expect(response.values("content-type") == ["text/plain"])
        let echo = try await fixture.client.send(
            loopback(
                HTTPClientRequest(
                    method: "POST", url: "\(fixture.base)/echo",
                    headers: [
                        HeaderField(name: "X-Test", value: "signed"), HeaderField(name: "Content-Type", value: "text/calendar"),
                        HeaderField(name: "X-Empty", value: "")
                    ],
                    body: Array("BEGIN:VCALENDAR\r\n".utf8))))
        #expect(echo.status == 200 && echo.body == Array("BEGIN:VCALENDAR\r\n".utf8))
        #expect(echo.values("X-Seen-Test") == ["signed"] && echo.values("X-Method") == ["POST"])
        // curl drops "Name:" headers; an empty value must still be sent (a signed header may be empty).
        #expect(echo.values("X-Seen-Empty") == ["present"])
    }

    @Test func untrustedAndWrongNameCertificatesAreRefused() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let systemStoreOnly = HTTPClient(configuration: HTTPClientConfiguration(connectTimeoutMilliseconds: 2_000))
        await #expect { try await systemStoreOnly.send(loopback(HTTPClientRequest(url: "\(fixture.base)/ok"))) } throws: { error in
            guard case .tls = error as? HTTPClientError else { return false }
            return true
        }
        let certificates = try Self.certificates.get()
        let (cert, key) = try certificates.issue("wrong", subjectAltNames: ["DNS:wrong.example"])
        let wrongName = try TestHTTPSServer(cert: cert, key: key)
        defer { wrongName.stop() }
        await #expect { try await fixture.client.send(loopback(HTTPClientRequest(url: "https://localhost:\(wrongName.port)/ok"))) } throws: { error in
            guard case .tls(let detail) = error as? HTTPClientError else { return false }
            return detail.contains("localhost")
        }
    }

    @Test func expiredCertificatesAreRefused() async throws {
        let certificates = try Self.certificates.get()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"], days: -1)
        let expired = try TestHTTPSServer(cert: cert, key: key)
        defer { expired.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(caFile: certificates.caFile))
        await #expect { try await client.send(loopback(HTTPClientRequest(url: "https://localhost:\(expired.port)/ok"))) } throws: { error in
            guard case .tls(let detail) = error as? HTTPClientError else { return false }
            return detail.contains("expired")
        }
        #expect(expired.requests.isEmpty)
    }

    @Test func redirectsAreReportedNotFollowed() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let response = try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/redirect")))
        #expect(response.status == 301 && response.location == "/ok")
    }

    @Test func limitsTimeoutsAndRefusals() async throws {
        let fixture = try Self.fixture { $0.maximumResponseBytes = 1_000 }
        defer { fixture.server.stop() }
        #expect(try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/big/1000"))).body.count == 1_000)
        await #expect(throws: HTTPClientError.responseTooLarge(limit: 1_000)) {
            try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/big/5000")))
        }
        await #expect {
            try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/slow/3", timeoutMilliseconds: 300)))
        } throws: { error in
            guard case .timeout = error as? HTTPClientError else { return false }
            return true
        }
        await #expect { try await fixture.client.send(loopback(HTTPClientRequest(url: "https://127.0.0.1:\(freeLoopbackPort())/"))) } throws: {
            error in
            guard case .couldNotConnect = error as? HTTPClientError else { return false }
            return true
        }
        await #expect(throws: HTTPClientError.invalidRequest("URL must be http:// or https://: ftp://localhost/")) {
            try await fixture.client.send(loopback(HTTPClientRequest(url: "ftp://localhost/")))
        }
    }

    @Test func cancellationAbortsTheTransfer() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let started = ContinuousClock.now
        let task = Task { try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/slow/30"))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: HTTPClientError.cancelled) { try await task.value }
        // Far sooner than the 30 s the server would take, even on a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func twoHundredConcurrentRequestsLeaveThePoolFree() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let ticks = Atomic<Int>(0)
        let ticker = Task {
            while !Task.isCancelled {
                ticks.add(1, ordering: .relaxed)
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        // Each answer takes half a second. Transfers blocking the pool's two threads would hold the
        // ticker still until the first of them returns; on the curl thread it keeps ticking. An
        // ordering, not a timing: how far the ticker got before the first answer arrived.
        let client = fixture.client
        let url = "\(fixture.base)/slow/0.5"
        var ticksAtFirstAnswer: Int?
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await client.send(loopback(HTTPClientRequest(url: url))).status }
            }
            var statuses: [Int] = []
            for try await status in group {
                if ticksAtFirstAnswer == nil { ticksAtFirstAnswer = ticks.load(ordering: .relaxed) }
                statuses.append(status)
            }
            return statuses
        }
        ticker.cancel()
        #expect(statuses.count == 200 && statuses.allSatisfy { $0 == 200 })
        // Blocked threads would leave the ticker at its first tick (1); free ones give ~50 in the
        // half second, and even a machine busy with the rest of the suite gives more than 2.
        let reached = ticksAtFirstAnswer ?? 0
        #expect(reached >= 3, "ticks before the first answer: \(reached)")
    }

    @Test func shutdownFailsInFlightTransfers() async throws {
        let fixture = try Self.fixture()
        defer { fixture.server.stop() }
        let task = Task { try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/slow/5"))) }
        try await Task.sleep(for: .milliseconds(200))
        fixture.client.shutdown()
        await #expect(throws: HTTPClientError.shutDown) { try await task.value }
        await #expect(throws: HTTPClientError.shutDown) { try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/ok"))) }
    }
}

@Suite(.serialized, .waitsOnProcesses) struct HTTPClientCancellationTests {
    @Test func alreadyCancelledTasksNeverStartATransfer() async throws {
        let fixture = try HTTPClientTests.fixture()
        defer { fixture.server.stop() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/slow/1")))
        }
        await #expect(throws: HTTPClientError.cancelled) { try await task.value }
        // The client keeps working afterwards, and the server only ever saw that later request.
        #expect(try await fixture.client.send(loopback(HTTPClientRequest(url: "\(fixture.base)/ok"))).status == 200)
        #expect(fixture.server.requests == ["GET /ok"])
    }
}

@Suite(.serialized, .waitsOnProcesses) struct AddressPolicyTests {
    @Test func loopbackIsRefusedUnlessAllowed() async throws {
        let fixture = try HTTPClientTests.fixture()
        defer { fixture.server.stop() }
        await #expect { try await fixture.client.send(HTTPClientRequest(url: "\(fixture.base)/ok")) } throws: { error in
            guard case .addressNotAllowed(let reason) = error as? HTTPClientError else { return false }
            return reason.hasPrefix("localhost resolves only to refused addresses") && reason.contains("127.0.0.1 is a loopback address")
        }
        // Every spelling libcurl would read as a loopback or internal address is refused as that address.
        let forms = [
            "127.0.0.1": "127.0.0.1", "[::1]": "::1", "[::ffff:127.0.0.1]": "::ffff:127.0.0.1", "0.0.0.0": "0.0.0.0",
            "2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "0x7f000001": "127.0.0.1", "127.1": "127.0.0.1",
            "10.0.0.1": "10.0.0.1", "169.254.169.254": "169.254.169.254", "100.64.0.1": "100.64.0.1"
        ]
        for (form, address) in forms {
            await #expect { try await fixture.client.send(HTTPClientRequest(url: "https://\(form):\(fixture.server.port)/ok")) } throws: { error in
                guard case .addressNotAllowed(let reason) = error as? HTTPClientError else { return false }
                return reason.hasPrefix("\(address) is a")
            }
        }
        #expect(fixture.server.requests.isEmpty)
    }

    @Test func specialPurposeRangesAreClassified() {
        let refused = [
            "127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
            "224.0.0.1", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2001:db8::1", "ff02::1"
        ]
        for address in refused { #expect(AddressPolicy.publicOnly.refusal(address) != nil, "\(address)") }
        for address in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            #expect(AddressPolicy.publicOnly.refusal(address) == nil, "\(address)")
        }
        #expect(AddressPolicy.any.refusal("127.0.0.1") == nil)
        #expect(AddressPolicy.publicOnly.refusal("not-an-ip") == "unparsable address not-an-ip")
    }
}

/// HTTP/2 negotiated by ALPN with a real h2 server (nghttpd from Debian's nghttp2-server).
@Suite(.serialized, .waitsOnProcesses) struct HTTP2Tests {
    @Test func alpnSelectsHTTP2() async throws {
        try Prerequisites.require(Prerequisites.nghttpd, for: "nghttpd")
        let certificates = try HTTPClientTests.certificates.get()
        let (cert, key) = try certificates.issue("localhost", subjectAltNames: ["DNS:localhost"])
        let root = certificates.directory.appendingPathComponent("h2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "hello over h2\n".write(to: root.appendingPathComponent("ok"), atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let server = try ChildProcess(
            "/usr/sbin/nghttpd", ["--address=127.0.0.1", "-d", root.path, String(port), key, cert],
            logPath: root.appendingPathComponent("nghttpd.log").path)
        defer { server.stop() }
        #expect(waitForLoopbackListener(port: port), "nghttpd did not listen: \(server.log)")
        let client = HTTPClient(configuration: HTTPClientConfiguration(caFile: certificates.caFile))
        let response = try await client.send(loopback(HTTPClientRequest(url: "https://localhost:\(port)/ok")))
        #expect(response.status == 200 && response.httpVersion == "2")
        #expect(response.body == Array("hello over h2\n".utf8))
    }
}
