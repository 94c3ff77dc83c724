public import Foundation

/// Xandikos 0.4.10 (from PyPI, in the tests' virtual environment) for one calendar user on
/// loopback: CalDAV on a port chosen at run time, its user's principal, default calendar and
/// inbox created (`--defaults`) and its calendar-user address set from its own configuration
/// file; iMIP sent to `smtpPort` (`--imip-send smtp`) and received by its LMTP listener
/// (`--imip-listen`), which delivers every message to this one user whatever the recipient.
/// Stopped by its PID.
public final class TestXandikos: @unchecked Sendable {
    public static let program = TestCalendarServers.venv + "/bin/xandikos"
    public let user: String
    /// `mailto:` address of the user (its calendar-user address set).
    public let address: String
    public let port: UInt16
    public let lmtpPort: UInt16
    public let directory: URL
    private let process: ChildProcess

    /// The user's default calendar collection.
    public var calendarURL: String { "http://127.0.0.1:\(port)/\(user)/calendars/calendar/" }

    /// - Parameter from: the envelope sender and From of the iMIP it sends (`--smtp-from`).
    public init(user: String, address: String, smtpPort: UInt16, from: String) throws {
        try Prerequisites.require(Prerequisites.xandikos, for: "Xandikos")
        self.user = user
        self.address = address
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("xandikos-\(UUID().uuidString)")
        let principal = directory.appendingPathComponent("data/\(user)")
        try FileManager.default.createDirectory(at: principal, withIntermediateDirectories: true)
        try "[scheduling]\naddresses = \(address)\n".write(to: principal.appendingPathComponent(".xandikos"), atomically: true, encoding: .utf8)
        var lastLog = ""
        for _ in 0..<5 {
            let (http, lmtp) = (freeLoopbackPort(), freeLoopbackPort())
            let log = directory.appendingPathComponent("xandikos-\(http).log").path
            let candidate = try ChildProcess(
                Self.program,
                [
                    "serve", "-d", directory.appendingPathComponent("data").path, "--defaults", "--current-user-principal", "/\(user)/",
                    "-l", "127.0.0.1", "-p", String(http), "--imip-send", "smtp", "--smtp-host", "127.0.0.1", "--smtp-port", String(smtpPort),
                    "--smtp-from", from, "--imip-listen", "127.0.0.1:\(lmtp)"
                ], logPath: log)
            if waitUntil(
                seconds: 20,
                { !candidate.isRunning || (waitForLoopbackListener(port: http, attempts: 1) && waitForLoopbackListener(port: lmtp, attempts: 1)) }),
                candidate.isRunning
            {
                (port, lmtpPort, process) = (http, lmtp, candidate)
                return
            }
            lastLog = candidate.log
            candidate.stop()
        }
        throw ChildProcessError("Xandikos did not start: \(lastLog)")
    }

    /// Stores `calendar` as `name` in the user's default calendar (Xandikos then schedules it).
    @discardableResult
    public func put(_ name: String, _ calendar: String) throws -> Int {
        try calDAVRequest("PUT", calendarURL + name, headers: ["Content-Type": "text/calendar; charset=utf-8"], body: calendar).status
    }

    /// The object `name` of the user's default calendar, or nil.
    public func get(_ name: String) throws -> String? {
        let response = try calDAVRequest("GET", calendarURL + name)
        return response.status == 200 ? response.body : nil
    }

    /// The PARTSTAT of `attendee` (a `mailto:` address) in the object `name`, or nil.
    public func partstat(of attendee: String, in name: String) -> String? {
        let event = (try? get(name)) ?? nil
        let line = event?.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").first {
            $0.hasPrefix("ATTENDEE") && $0.lowercased().hasSuffix(":" + attendee.lowercased())
        }
        return line?.split(separator: ";").first { $0.hasPrefix("PARTSTAT=") }.map { String($0.dropFirst(9).prefix { $0 != ":" }) }
    }

    /// Hands `message` (CRLF line ends) to the LMTP listener as Postfix's `lmtp:` would; the reply.
    public func deliverByLMTP(_ message: String, from sender: String, to recipient: String) throws -> String {
        let script = """
            import smtplib, sys
            client = smtplib.LMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
            try:
                refused = client.sendmail(sys.argv[2], [sys.argv[3]], sys.stdin.buffer.read())
                print("250" if not refused else refused)
            except smtplib.SMTPResponseException as error:
                print(error.smtp_code, error.smtp_error.decode())
            finally:
                client.quit()
            """
        return try runPython(script, [String(lmtpPort), sender, recipient], input: Data(message.utf8)).output
    }

    public var log: String { process.log }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// Where the calendar servers of today come from: the tests' virtual environment, made by
/// `deploy/install-deps.sh` with pinned versions from PyPI.
public enum TestCalendarServers {
    public static let venv = "/opt/ischedule-gateway-tests/venv"
}
