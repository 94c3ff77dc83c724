import Foundation

/// A real SMTP server (aiosmtpd, Tests/Helpers/smtp_server.py) on a loopback port.
public final class TestSMTPServer: @unchecked Sendable {
    public enum Mode: String { case starttls, smtps, plain }

    public let port: UInt16
    private let process: ChildProcess

    public init(mode: Mode, cert: String, key: String) throws {
        try Prerequisites.require(Prerequisites.aiosmtpd, for: "SMTP (aiosmtpd)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers/smtp_server.py").path
        var lastLog = ""
        for _ in 0..<5 {
            let port = freeLoopbackPort()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString).log").path
            let candidate = try ChildProcess("/usr/bin/env", ["python3", script, String(port), mode.rawValue, cert, key], logPath: log)
            if candidate.announcedPort() == port {
                self.port = port
                self.process = candidate
                return
            }
            lastLog = candidate.log
            candidate.stop()
        }
        throw ChildProcessError("SMTP test server did not start: \(lastLog)")
    }

    /// Every accepted message, as the server recorded it.
    public var messages: [[String: Any]] {
        process.log.split(separator: "\n").filter { $0.hasPrefix("message ") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst(8).utf8)) as? [String: Any]
        }
    }

    public func stop() { process.stop() }

    deinit { stop() }
}
