import Foundation
import TestSupport
import TestTraits
import Testing

/// Bad input and shutdown: oversize bodies, header floods, malformed and dribbled requests, and
/// SIGTERM with requests in flight.
@Suite("Robustness", .waitsOnProcesses)
struct ServiceRobustnessTests {
    @Test("oversize, too many headers, malformed and dribbled requests are refused; the gateway keeps serving")
    func badInput() throws {
        let bed = try InboundBed()
        defer { _ = bed.stop() }
        // A declared 10 MB body is refused from the headers alone, before the body is sent.
        let started = Date()
        let large = try RawHTTPConnection(port: bed.port)
        large.write(
            Array("POST /.well-known/ischedule HTTP/1.1\r\nHost: x\r\nContent-Type: text/calendar\r\nContent-Length: 10000000\r\n\r\nBEGIN".utf8))
        let tooLarge = try #require(large.readResponse())
        #expect(tooLarge.status == 413)
        #expect(precondition(of: tooLarge) == "max-content-length")
        #expect(large.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 3)

        let flood = (0..<60).map { ("X-Flood-\($0)", "x") }
        let flooded = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/healthz", headers: flood)
        #expect(flooded.status == 431)

        let malformed = try RawHTTPConnection(port: bed.port)
        malformed.write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n".utf8))
        #expect(malformed.readResponse()?.status == 400)

        // A client dribbling its request one byte at a time is cut off after request-read (1 s),
        // while other clients are served meanwhile.
        let dribbler = try RawHTTPConnection(port: bed.port, timeout: 6)
        let dribbleStart = Date()
        for byte in Array("POST /.well-known/ischedule HTTP/1.1\r\n".utf8).prefix(4) {
            dribbler.write([byte])
            let healthy = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/healthz")
            #expect(healthy.status == 200)
            usleep(150_000)
        }
        #expect(dribbler.isClosedByPeer())
        let held = Date().timeIntervalSince(dribbleStart)
        #expect(held > 0.5 && held < 4, "connection held for \(held) s")

        // Chunked body above the limit: 413 as well.
        let chunked = try RawHTTPConnection(port: bed.port)
        let chunk = [UInt8](repeating: 65, count: 70_000)
        chunked.write(
            Array("POST /.well-known/ischedule HTTP/1.1\r\nHost: x\r\nContent-Type: text/calendar\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                + Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + Array("\r\n0\r\n\r\n".utf8))
        #expect(chunked.readResponse()?.status == 413)

        let after = try RawHTTPConnection.exchange(port: bed.port, method: "GET", path: "/.well-known/ischedule?action=capabilities")
        #expect(after.status == 200)
        #expect(bed.gateway.process.isRunning)
    }

    @Test("SIGTERM with requests in flight: they complete, new connections are refused, exit code 0")
    func gracefulShutdown() throws {
        let bed = try InboundBed()
        let count = 12
        let responses = ResponseList()
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@unsigned-ok.test", attendees: ["mailto:slow\(index)@beta.test"])
                let response = try? bed.post(
                    [
                        ("Originator", "mailto:ann@unsigned-ok.test"), ("Recipient", "mailto:slow\(index)@beta.test"),
                        ("Content-Type", ITIP.contentType("REQUEST"))
                    ], body: body)
                responses.append(response)
            }
        }
        // Wait until every request has reached the (3 s slow) upstream, then ask the gateway to stop.
        for _ in 0..<100 where bed.upstream.records.count < count { usleep(50_000) }
        #expect(bed.upstream.records.count == count)
        bed.gateway.process.send(SIGTERM)
        usleep(300_000)
        #expect((try? RawHTTPConnection(port: bed.port)) == nil, "a new connection was accepted after SIGTERM")
        let status = bed.gateway.process.waitForExit(timeout: 20)
        #expect(group.wait(timeout: .now() + 20) == .success)
        #expect(status == 0)
        let answered = responses.items.compactMap { $0 }
        #expect(answered.count == count)
        #expect(answered.allSatisfy { $0.status == 200 && scheduleResponse($0)?.items.first?.requestStatus.code == "1.2" })
        _ = bed.stop()
    }
}

private final class ResponseList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [RawHTTPResponse?] = []
    func append(_ item: RawHTTPResponse?) { lock.withLock { storage.append(item) } }
    var items: [RawHTTPResponse?] { lock.withLock { storage } }
}
