import Foundation
import TestSupport
import TestTraits
import Testing

/// The README quick start, step by step, on the embedded default configuration (only the two
/// fixed ports are replaced, so the test cannot collide with anything on 8080/8008).
@Suite("README quick start", .waitsOnProcesses)
struct QuickStartTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("no arguments: the default config serves, a dkim-signed request is accepted")
    func quickStart() throws {
        let upstream = try TestCalendarServer()
        defer { upstream.stop() }
        let work = GatewayProcess.temporaryDirectory("quickstart")
        let config = work.appendingPathComponent("config")
        try FileManager.default.createDirectory(
            at: config.appendingPathComponent("private-exchange/peer.example"),
            withIntermediateDirectories: true)
        let embedded = try String(contentsOf: Self.repository.appendingPathComponent("config/gateway.yaml"), encoding: .utf8)
        #expect(embedded.contains("http://127.0.0.1:8080") && embedded.contains("http://127.0.0.1:8008/ischedule"))
        try embedded.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8008", with: "127.0.0.1:\(upstream.port)")
            .write(to: config.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)

        let gateway = try GatewayProcess(arguments: [], directory: work, listeners: 1)
        var stopped = false
        defer { if !stopped { gateway.stop() } }
        #expect(gateway.log.contains("created a development DKIM key"))
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("data/keys/example.com.ischedule.private.pem").path))
        let port = gateway.ports[0]
        let capabilities = try RawHTTPConnection.exchange(port: port, method: "GET", path: "/.well-known/ischedule?action=capabilities")
        #expect(capabilities.status == 200)

        // dkim keygen / txt --record-only / sign, exactly as the README runs them.
        let peer = work.appendingPathComponent("peer").path
        func cli(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = GatewayBinary.url
            process.arguments = arguments
            process.currentDirectoryURL = work
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(arguments)")
            return String(decoding: data, as: UTF8.self)
        }
        _ = try cli(["dkim", "keygen", "--domain", "peer.example", "--selector", "s1", "--out", peer])
        let key = "\(peer)/peer.example.s1.private.pem"
        let record = try cli(["dkim", "txt", "--record-only", "--key", key, "--domain", "peer.example", "--selector", "s1"])
        #expect(record.hasPrefix("v=DKIM1; k=rsa; s=ischedule; p="))
        try record.write(to: config.appendingPathComponent("private-exchange/peer.example/s1"), atomically: true, encoding: .utf8)
        let request = work.appendingPathComponent("invite.http")
        let body = ITIP.calendar(method: "REQUEST", organizer: "mailto:ann@peer.example", attendees: ["mailto:bob@example.com"])
        let head =
            "POST /.well-known/ischedule HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOriginator: mailto:ann@peer.example\r\n"
            + "Recipient: mailto:bob@example.com\r\nContent-Type: text/calendar; charset=utf-8; component=VEVENT; method=REQUEST\r\n\r\n"
        try Data(Array(head.utf8) + body).write(to: request)
        let signed = try cli([
            "dkim", "sign", "--request", request.path, "--key", key, "--domain", "peer.example", "--selector", "s1",
            "--query-methods", "private-exchange"
        ])
        let connection = try RawHTTPConnection(port: port)
        connection.write(Array(signed.utf8))
        let answer = try #require(connection.readResponse())
        #expect(answer.status == 200, "\(answer.text)")
        #expect(scheduleResponse(answer)?.items.map(\.requestStatus.code) == ["1.2"])
        #expect(upstream.records.count == 1)
        stopped = true
        #expect(gateway.stop() == 0)
    }
}
