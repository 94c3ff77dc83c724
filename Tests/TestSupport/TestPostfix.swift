public import Foundation

/// A real Postfix (Debian's package) of the test's own: its own `config_directory`, queue and log
/// under a temporary directory, SMTP on loopback ports chosen at run time, the master in the
/// foreground (`postfix start-fg`, ended by its PID). Mail it accepts on `submissionPort` goes
/// through a `pipe(8)` content filter; the filter re-injects into `reinjectionPort` (no filter);
/// everything leaves through `relayhost`, the test's SMTP sink. No DNS: the relay is an address.
/// The filter's services are given as the deployment guide writes them.
public final class TestPostfix: @unchecked Sendable {
    public let directory: URL
    public let submissionPort: UInt16
    public let reinjectionPort: UInt16
    private let process: ChildProcess

    /// - Parameters:
    ///   - services: the filter's master.cf lines (deploy/postfix/master.cf) with `SUBMISSION_PORT`
    ///     and `REINJECTION_PORT` where its ports go; the re-injection service additionally
    ///     answers as `setReinjection(accepting:)` says.
    ///   - relayPort: the SMTP sink on 127.0.0.1 all outgoing mail goes to.
    ///   - transports: domain → Postfix transport (`lmtp:inet:127.0.0.1:PORT`) instead of the relay.
    public init(services: String, relayPort: UInt16, transports: [String: String] = [:]) throws {
        try Prerequisites.require(Prerequisites.postfix, for: "Postfix")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("postfix-\(UUID().uuidString.prefix(8))")
        for name in ["data", "queue"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        // The master's lock and the TLS caches live in data_directory, which Postfix wants as its own.
        try FileManager.default.setAttributes([.ownerAccountName: "postfix"], ofItemAtPath: directory.appendingPathComponent("data").path)
        let submission = freeLoopbackPort()
        let reinjection = freeLoopbackPort()
        submissionPort = submission
        reinjectionPort = reinjection
        let path = directory.path
        try """
        compatibility_level = 3.6
        queue_directory = \(path)/queue
        data_directory = \(path)/data
        maillog_file = \(path)/maillog
        maillog_file_prefixes = \(path)
        mail_owner = postfix
        setgid_group = postdrop
        myhostname = mta.alpha.test
        mydomain = alpha.test
        myorigin = alpha.test
        mydestination =
        local_recipient_maps =
        alias_maps =
        alias_database =
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        mynetworks = 127.0.0.0/8
        smtpd_relay_restrictions = permit_mynetworks, reject
        relayhost = [127.0.0.1]:\(relayPort)
        smtp_dns_support_level = disabled
        smtp_tls_security_level = none
        smtpd_tls_security_level = none
        queue_run_delay = 1s
        minimal_backoff_time = 1s
        maximal_backoff_time = 2s
        ischedule_destination_recipient_limit = 50
        reinjection_access = texthash:\(path)/reinjection-access
        refused_recipients = texthash:\(path)/refused-recipients
        transport_maps = texthash:\(path)/transport

        """.write(to: directory.appendingPathComponent("main.cf"), atomically: true, encoding: .utf8)
        try """
        \(services.split(separator: "\n").map { line in
                line.contains("REINJECTION_PORT")
                    ? line.replacingOccurrences(of: "REINJECTION_PORT", with: String(reinjection))
                        + "\n  -o smtpd_recipient_restrictions=check_recipient_access,$refused_recipients,check_client_access,$reinjection_access"
                    : line.replacingOccurrences(of: "SUBMISSION_PORT", with: String(submission))
            }.joined(separator: "\n"))
        pickup unix n - n 60 1 pickup
        cleanup unix n - n - 0 cleanup
        qmgr unix n - n 300 1 qmgr
        rewrite unix - - n - - trivial-rewrite
        bounce unix - - n - 0 bounce
        defer unix - - n - 0 bounce
        trace unix - - n - 0 bounce
        verify unix - - n - 1 verify
        flush unix n - n 1000? 0 flush
        proxymap unix - - n - - proxymap
        smtp unix - - n - - smtp
        relay unix - - n - - smtp
        lmtp unix - - n - - lmtp
        showq unix n - n - - showq
        error unix - - n - - error
        retry unix - - n - - error
        discard unix - - n - - discard
        anvil unix - - n - 1 anvil
        scache unix - - n - 1 scache
        postlog unix-dgram n - n - 1 postlogd

        """.write(to: directory.appendingPathComponent("master.cf"), atomically: true, encoding: .utf8)
        try Self.writeReinjectionAccess(directory, accepting: true)
        try "".write(to: directory.appendingPathComponent("refused-recipients"), atomically: true, encoding: .utf8)
        try transports.map { "\($0.key) \($0.value)\n" }.sorted().joined().write(
            to: directory.appendingPathComponent("transport"), atomically: true, encoding: .utf8)
        try Self.postfix(directory, ["check"])
        process = try ChildProcess("/usr/sbin/postfix", ["-c", path, "start-fg"], logPath: path + "/master.out")
        guard waitForLoopbackListener(port: submissionPort, attempts: 200), waitForLoopbackListener(port: reinjectionPort, attempts: 200) else {
            let output = process.log + log
            process.stop()
            throw ChildProcessError("Postfix did not start: \(output.suffix(3_000))")
        }
    }

    /// Whether the re-injection service accepts mail now, or answers 451 (the filter must then
    /// exit 75 and Postfix keeps the message for a later try). Applies to new connections.
    public func setReinjection(accepting: Bool) throws {
        try Self.writeReinjectionAccess(directory, accepting: accepting)
        try Self.postfix(directory, ["reload"])
    }

    /// Recipients the re-injection service refuses for good (550 5.1.1), as a server whose
    /// recipient checks say "no such user" would. Applies to new connections.
    public func refuseAtReinjection(_ recipients: [String]) throws {
        try recipients.map { "\($0) 550 5.1.1 no such user here (refused by the test)\n" }.joined()
            .write(to: directory.appendingPathComponent("refused-recipients"), atomically: true, encoding: .utf8)
        try Self.postfix(directory, ["reload"])
    }

    /// Replaces the transport table (domain → `lmtp:inet:127.0.0.1:PORT`): for a server whose
    /// LMTP port is known only after Postfix's submission port (it submits there). New deliveries.
    public func route(_ transports: [String: String]) throws {
        try transports.map { "\($0.key) \($0.value)\n" }.sorted().joined().write(
            to: directory.appendingPathComponent("transport"), atomically: true, encoding: .utf8)
        try Self.postfix(directory, ["reload"])
    }

    private static func writeReinjectionAccess(_ directory: URL, accepting: Bool) throws {
        try (accepting ? "127.0.0.1 OK\n" : "127.0.0.1 451 4.3.2 re-injection closed by the test\n")
            .write(to: directory.appendingPathComponent("reinjection-access"), atomically: true, encoding: .utf8)
    }

    /// Tries every deferred message again now (`postqueue -f`).
    public func flush() throws {
        try runToEnd("/usr/sbin/postqueue", ["-c", directory.path, "-f"], log: directory.path + "/postqueue.out")
    }

    /// The mail log (`maillog_file`).
    public var log: String { (try? String(contentsOf: directory.appendingPathComponent("maillog"), encoding: .utf8)) ?? "" }

    /// Ends the master (by the PID it wrote; it outlives the `postfix start-fg` that started it),
    /// which ends its services, then the starter.
    public func stop() {
        let pidFile = directory.appendingPathComponent("queue/pid/master.pid")
        if let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
        {
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        }
        process.stop()
    }

    deinit { stop() }

    @discardableResult
    private static func postfix(_ directory: URL, _ arguments: [String]) throws -> String {
        try runToEnd("/usr/sbin/postfix", ["-c", directory.path] + arguments, log: directory.path + "/postfix-\(arguments[0]).out")
    }
}
