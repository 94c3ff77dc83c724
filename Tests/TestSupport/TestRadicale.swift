public import Foundation

/// Radicale 3.9.0 (from PyPI, in the tests' virtual environment) on loopback: htpasswd users
/// (plain), rights from a file (each user owns `/<user>/`; `freeBusyGrants` lets one user read
/// another's free/busy only, permission `f`), a calendar `/<user>/calendar/` created at each
/// user's first request (`predefined_collections`), and the `email` hook sending to `smtpPort`
/// from `from` (an `application/octet-stream` `event.ics` attachment, no METHOD). Stopped by its PID.
public final class TestRadicale: @unchecked Sendable {
    public static let program = TestCalendarServers.venv + "/bin/radicale"
    public let port: UInt16
    public let directory: URL
    public let passwords: [String: String]
    private let process: ChildProcess

    /// - Parameters:
    ///   - freeBusyGrants: (reader, owner): `reader` may ask for `owner`'s free/busy.
    ///   - readGrants: (reader, owner): `reader` may read `owner`'s calendars (the gateway's
    ///     `organizer-calendars` account).
    public init(
        users: [String: String], freeBusyGrants: [(reader: String, owner: String)] = [], readGrants: [(reader: String, owner: String)] = [],
        smtpPort: UInt16?, from: String
    ) throws {
        try Prerequisites.require(Prerequisites.radicale, for: "Radicale")
        passwords = users
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("radicale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try users.map { "\($0.key):\($0.value)\n" }.sorted().joined().write(
            to: directory.appendingPathComponent("users"), atomically: true, encoding: .utf8)
        // The first section that matches decides (Radicale's from_file rights).
        var rights = freeBusyGrants.enumerated().map {
            "[free-busy-\($0.offset)]\nuser: \($0.element.reader)\ncollection: \($0.element.owner)/[^/]+\npermissions: f\n"
        }
        rights += readGrants.enumerated().map {
            "[read-\($0.offset)]\nuser: \($0.element.reader)\ncollection: \($0.element.owner)/[^/]+\npermissions: r\n"
        }
        rights += [
            "[root]\nuser: .+\ncollection:\npermissions: R\n", "[principal]\nuser: .+\ncollection: {user}\npermissions: RW\n",
            "[calendars]\nuser: .+\ncollection: {user}/[^/]+\npermissions: rw\n"
        ]
        try rights.joined(separator: "\n").write(to: directory.appendingPathComponent("rights"), atomically: true, encoding: .utf8)
        var lastLog = ""
        for _ in 0..<5 {
            let port = freeLoopbackPort()
            let configuration = directory.appendingPathComponent("config-\(port)")
            try Self.configuration(port: port, directory: directory, smtpPort: smtpPort, from: from)
                .write(to: configuration, atomically: true, encoding: .utf8)
            let candidate = try ChildProcess(
                Self.program, ["--config", configuration.path], logPath: directory.appendingPathComponent("radicale-\(port).log").path)
            if waitUntil(seconds: 20, { !candidate.isRunning || waitForLoopbackListener(port: port, attempts: 1) }), candidate.isRunning {
                (self.port, process) = (port, candidate)
                return
            }
            lastLog = candidate.log
            candidate.stop()
        }
        throw ChildProcessError("Radicale did not start: \(lastLog)")
    }

    private static func configuration(port: UInt16, directory: URL, smtpPort: UInt16?, from: String) -> String {
        var text = """
            [server]
            hosts = 127.0.0.1:\(port)
            [auth]
            type = htpasswd
            htpasswd_filename = \(directory.path)/users
            htpasswd_encryption = plain
            delay = 0
            [rights]
            type = from_file
            file = \(directory.path)/rights
            [storage]
            filesystem_folder = \(directory.path)/collections
            predefined_collections = {"calendar": {"tag": "VCALENDAR", "D:displayname": "Calendar", "C:supported-calendar-component-set": "VEVENT"}}
            [logging]
            level = info

            """
        if let smtpPort {
            text += "[hook]\ntype = email\nsmtp_server = 127.0.0.1\nsmtp_port = \(smtpPort)\nsmtp_security = none\nfrom_email = \(from)\n"
        }
        return text
    }

    /// `user`'s calendar collection (created by the user's first request).
    public func calendarURL(_ user: String) -> String { "http://127.0.0.1:\(port)/\(user)/calendar/" }

    /// Stores `calendar` as `name` in `user`'s calendar (the email hook then mails its attendees).
    @discardableResult
    public func put(_ name: String, _ calendar: String, as user: String) throws -> Int {
        try calDAVRequest(
            "PUT", calendarURL(user) + name, user: user, password: passwords[user] ?? "", headers: ["Content-Type": "text/calendar; charset=utf-8"],
            body: calendar
        ).status
    }

    public var log: String { process.log }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
