public import Foundation

/// A real Cyrus IMAP 3.6 (Debian's cyrus-imapd and cyrus-caldav) of the test's own: its own
/// imapd.conf and cyrus.conf under a temporary directory, the CalDAV + iSchedule httpd and imapd on
/// loopback ports chosen at run time, users in a private sasldb, the master in the foreground
/// (started as root, it runs its services as `cyrus`; ended by its PID). Cyrus does not check
/// DKIM (`ischedule_dkim_required: no`), so a gateway must stand in front of it. Its httpd runs
/// with `-U 1`: 3.6 crashes on the second capabilities request of a process.
public final class TestCyrus: @unchecked Sendable {
    public let directory: URL
    public let httpPort: UInt16
    public let imapPort: UInt16
    public let domain: String
    private let process: ChildProcess
    public static let password = "secret"

    /// - Parameters:
    ///   - domain: the calendar user addresses it hosts (`calendar_user_address_set`).
    ///   - users: accounts (password `secret`), each with its mailbox and calendars.
    ///   - smtpPort: where it submits iMIP e-mail for remote attendees (127.0.0.1), if anywhere.
    public init(domain: String, users: [String], smtpPort: UInt16? = nil) throws {
        try Prerequisites.require(Prerequisites.cyrus, for: "Cyrus")
        self.domain = domain
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cyrus-\(UUID().uuidString.prefix(8))")
        let path = directory.path
        for sub in ["config/db", "config/socket", "config/proc", "config/lock", "config/log", "config/sieve", "config/ptclient", "spool", "socket"] {
            try FileManager.default.createDirectory(atPath: "\(path)/\(sub)", withIntermediateDirectories: true)
        }
        let http = freeLoopbackPort()
        let imap = freeLoopbackPort()
        httpPort = http
        imapPort = imap
        try """
        configdirectory: \(path)/config
        partition-default: \(path)/spool
        servername: isched.\(domain)
        admins: admin
        sasl_pwcheck_method: auxprop
        sasl_auxprop_plugin: sasldb
        sasl_sasldb_path: \(path)/sasldb2
        sasl_mech_list: PLAIN LOGIN
        allowplaintext: yes
        httpmodules: caldav ischedule
        caldav_allowscheduling: on
        calendar_user_address_set: \(domain)
        ischedule_dkim_required: no
        unixhierarchysep: yes
        lmtpsocket: \(path)/socket/lmtp
        idlesocket: \(path)/socket/idle
        notifysocket: \(path)/socket/notify
        httpallowcompress: no
        \(smtpPort.map { "smtp_backend: host\nsmtp_host: 127.0.0.1:\($0)" } ?? "smtp_backend: host\nsmtp_host: 127.0.0.1:9")

        """.write(toFile: "\(path)/imapd.conf", atomically: true, encoding: .utf8)
        try """
        START {
          recover cmd="ctl_cyrusdb -r -C \(path)/imapd.conf"
        }
        SERVICES {
          http cmd="httpd -U 1 -C \(path)/imapd.conf" listen="127.0.0.1:\(http)" prefork=0 maxchild=10
          imap cmd="imapd -C \(path)/imapd.conf" listen="127.0.0.1:\(imap)" prefork=0 maxchild=10
        }
        EVENTS {
        }

        """.write(toFile: "\(path)/cyrus.conf", atomically: true, encoding: .utf8)
        for user in users + ["admin"] {
            try runToEnd(
                "/bin/sh", ["-c", "echo \(Self.password) | /usr/sbin/saslpasswd2 -p -c -f \(path)/sasldb2 -u isched.\(domain) \(user)"],
                log: "\(path)/saslpasswd2.log")
        }
        try runToEnd("/bin/chown", ["-R", "cyrus:mail", path], log: "\(path)/chown.log")
        process = try ChildProcess(
            "/usr/lib/cyrus/bin/master", ["-C", "\(path)/imapd.conf", "-M", "\(path)/cyrus.conf", "-p", "\(path)/master.pid"],
            logPath: "\(path)/master.out")
        guard waitForLoopbackListener(port: http, attempts: 200), waitForLoopbackListener(port: imap, attempts: 200) else {
            let output = process.log
            process.stop()
            throw ChildProcessError("Cyrus did not start: \(output.suffix(2_000))")
        }
        // Mailboxes are made by the admin over IMAP; calendars on the user's first CalDAV request.
        // Cyrus forks a process per connection (httpd one per request): on a loaded machine one may
        // not come, so each step has a timeout and is tried again, a bounded number of times.
        let script =
            Self.retrying + """
                import imaplib
                imap_port, http_port, password, users = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
                def login():
                    m = imaplib.IMAP4("127.0.0.1", imap_port, timeout=15)
                    m.login("admin", password)
                    return m
                for user in users:
                    def create():
                        m = login()
                        status, detail = m.create("user/" + user)
                        m.logout()
                        if status != "OK" and b"exists" not in b" ".join(detail).lower(): sys.exit("CREATE user/%s: %s" % (user, detail))
                    retrying(create)
                    retrying(lambda: call("http://127.0.0.1:%s" % http_port, user, password, "PROPFIND", "/dav/calendars/user/%s/" % user, "1"))
                """
        try runToEnd(
            "/usr/bin/env", ["python3", "-c", script, String(imap), String(http), Self.password] + users, log: "\(path)/provision.log",
            timeout: 180)
    }

    /// Python helpers of the scripts below: `retrying(action)` (5 tries, 1–4 s apart, for
    /// connection-level failures only) and `call` (one authenticated CalDAV request, 15 s at most).
    private static let retrying = """
        import base64, sys, time, urllib.error, urllib.request
        def retrying(action):
            for n in range(5):
                try:
                    return action()
                except urllib.error.HTTPError:
                    raise
                except (OSError, EOFError) as error:
                    if n == 4: raise
                    sys.stderr.write("try %d failed (%s); again\\n" % (n + 1, error))
                    time.sleep(n + 1)
        def call(base, user, password, method, path, depth=None):
            auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            headers = {"Authorization": auth, **({"Depth": depth} if depth else {})}
            request = urllib.request.Request(base + path, method=method, headers=headers)
            return urllib.request.urlopen(request, timeout=15).read().decode()

        """

    public var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    /// What `user`'s scheduling Inbox holds: the calendar objects, fetched with the user's credentials.
    public func inbox(of user: String) throws -> [String] {
        let script =
            Self.retrying + """
                import re
                base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
                listing = retrying(lambda: call(base, user, password, "PROPFIND", "/dav/calendars/user/%s/Inbox/" % user, "1"))
                for href in re.findall(r"<D:href>([^<]+\\.ics)</D:href>", listing):
                    sys.stdout.write(retrying(lambda: call(base, user, password, "GET", href)) + "\\0")
                """
        let log = directory.appendingPathComponent("inbox-\(UUID().uuidString.prefix(6)).out").path
        let output = try runToEnd("/usr/bin/env", ["python3", "-c", script, baseURL, user, Self.password], log: log, timeout: 120)
        // A retry's note (stderr, the same log) may stand before a calendar: each begins at BEGIN.
        return output.split(separator: "\0").compactMap { part in part.range(of: "BEGIN:VCALENDAR").map { String(part[$0.lowerBound...]) } }
    }

    /// Stores a calendar object in `user`'s default calendar, as a CalDAV client would (PUT);
    /// Cyrus then schedules it (iMIP e-mail for attendees in other domains). Returns the HTTP status.
    @discardableResult
    public func put(user: String, name: String, calendar: String) throws -> Int {
        try calDAVPut(
            "\(baseURL)/dav/calendars/user/\(user)/Default/\(name)", user: user, password: Self.password, calendar: calendar, createOnly: true)
    }

    public func stop() { process.stop() }

    deinit { stop() }
}
