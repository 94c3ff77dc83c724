public import Foundation

/// A real DAViCal 1.1 (Debian's davical, Apache 2.4 with mod_php, PostgreSQL 15) of the test's
/// own: a new PostgreSQL cluster with DAViCal's schema (its `create-database.sh`), users made by
/// SQL (DAViCal creates home collections only for external logins), Apache in the foreground on
/// loopback ports chosen at run time (http and https), in a private mount namespace where
/// `/etc/davical` is the bed's own configuration directory and `/etc/resolv.conf` names the test's
/// DNS server (DAViCal resolves SRV and TXT through glibc). Its iSchedule is the draft-01 dialect:
/// it signs with selector `cal`, verifies `c=simple-http` the way it really checks, and connects
/// over https only to certificates that chain to `caFile` (`openssl.cafile`). Ended by PIDs.
public final class TestDAViCal: @unchecked Sendable {
    public let domain: String
    public let directory: URL
    public let httpPort: UInt16
    public let httpsPort: UInt16
    /// The DKIM key record to publish at `cal._domainkey.<domain>` (DAViCal hard-codes `s=cal`).
    public let keyRecord: String
    public static let password = "secret"
    public static let selector = "cal"
    private let database: TestPostgresServer
    private let namespace: IsolatedNamespace
    private let apache: ChildProcess

    /// Whether Debian's davical, apache2 and mod_php are installed (deploy/install-deps.sh).
    public static var isInstalled: Bool {
        FileManager.default.fileExists(atPath: "/usr/share/davical/dba/create-database.sh") && phpModule != nil
    }

    /// mod_php's library (`libphp8.2.so` on Debian 12).
    static let phpModule: String? = ((try? FileManager.default.contentsOfDirectory(atPath: modules)) ?? [])
        .filter { $0.hasPrefix("libphp") && $0.hasSuffix(".so") }.sorted().last.map { "\(modules)/\($0)" }
    static let modules = "/usr/lib/apache2/modules"

    /// - Parameters:
    ///   - domain: the users' addresses are `user@domain`; the server is `isched.<domain>`.
    ///   - users: accounts (password `secret`), each with a calendar, a scheduling Inbox and Outbox.
    ///   - nameserver: the address (port 53) of the DNS server DAViCal resolves with.
    ///   - certificates: the CA that issues its TLS certificate and that it trusts.
    public init(domain: String, users: [String], nameserver: String, certificates: TestCertificates) throws {
        try Prerequisites.require(Prerequisites.davical, for: "DAViCal")
        guard let php = Self.phpModule else {
            throw ChildProcessError("DAViCal test bed: missing mod_php (Debian package libapache2-mod-php); run deploy/install-deps.sh")
        }
        self.domain = domain
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("davical-\(UUID().uuidString.prefix(8))")
        let path = directory.path
        for sub in ["etc", "apache"] { try FileManager.default.createDirectory(atPath: "\(path)/\(sub)", withIntermediateDirectories: true) }
        database = try TestPostgresServer()
        // The schema, its roles and the admin account, as the package's own script makes them.
        try runToEnd(
            "/usr/bin/env",
            [
                "PGHOST=\(database.directory)", "PGPORT=\(database.port)", "PGUSER=\(database.user)",
                "/usr/share/davical/dba/create-database.sh", "davical", "secretadmin"
            ], log: "\(path)/create-database.log")
        for user in users { try database.psql(Self.userSQL(user, domain: domain), database: "davical") }
        _ = try runToEnd("/usr/bin/openssl", ["genrsa", "-traditional", "-out", "\(path)/dkim.key", "2048"], log: "\(path)/genrsa.log")
        _ = try runToEnd(
            "/usr/bin/openssl", ["rsa", "-in", "\(path)/dkim.key", "-pubout", "-outform", "DER", "-out", "\(path)/dkim.der"],
            log: "\(path)/rsa.log")
        keyRecord = "v=DKIM1; k=rsa; p=" + (try Data(contentsOf: URL(fileURLWithPath: "\(path)/dkim.der"))).base64EncodedString()
        let tls = try certificates.issue("isched.\(domain)", subjectAltNames: ["DNS:isched.\(domain)"])
        for file in ["\(path)/dkim.key", tls.key] { chmod(file, 0o644) }
        httpPort = freeLoopbackPort()
        httpsPort = freeLoopbackPort()
        try """
        <?php
        $c->pg_connect[] = "host=\(database.directory) port=\(database.port) dbname=davical user=davical_app";
        $c->enable_scheduling = true;
        $c->scheduling_dkim_domain = "\(domain)";
        $c->scheduling_dkim_selector = "\(Self.selector)";
        $c->schedule_private_key = "\(path)/dkim.key";
        $c->admin_email = "admin@\(domain)";
        $c->system_name = "DAViCal test bed";

        """.write(toFile: "\(path)/etc/isched.\(domain)-conf.php", atomically: true, encoding: .utf8)
        let modules = Self.modules
        try """
        ServerRoot \(path)/apache
        PidFile \(path)/apache/httpd.pid
        DefaultRuntimeDir \(path)/apache
        Mutex file:\(path)/apache default
        User www-data
        Group www-data
        ErrorLog \(path)/apache/error.log
        LogLevel warn
        LoadModule mpm_prefork_module \(modules)/mod_mpm_prefork.so
        LoadModule authz_core_module \(modules)/mod_authz_core.so
        LoadModule mime_module \(modules)/mod_mime.so
        LoadModule dir_module \(modules)/mod_dir.so
        LoadModule rewrite_module \(modules)/mod_rewrite.so
        LoadModule ssl_module \(modules)/mod_ssl.so
        LoadModule socache_shmcb_module \(modules)/mod_socache_shmcb.so
        LoadModule php_module \(php)
        StartServers 2
        MinSpareServers 1
        MaxSpareServers 4
        MaxRequestWorkers 10
        TypesConfig /etc/mime.types
        Listen 127.0.0.1:\(httpPort)
        Listen 127.0.0.1:\(httpsPort)
        ServerName isched.\(domain)
        UseCanonicalName On
        DocumentRoot /usr/share/davical/htdocs
        <Directory /usr/share/davical/htdocs>
          Require all granted
          DirectoryIndex index.php
          AcceptPathInfo On
        </Directory>
        <FilesMatch "\\.php$">
          SetHandler application/x-httpd-php
        </FilesMatch>
        php_admin_value openssl.cafile \(certificates.caFile)
        RewriteEngine On
        RewriteRule ^/\\.well-known/(.*)$ /caldav.php/.well-known/$1 [NC,PT]
        <VirtualHost 127.0.0.1:\(httpsPort)>
          ServerName isched.\(domain)
          UseCanonicalName On
          SSLEngine on
          SSLCertificateFile \(tls.cert)
          SSLCertificateKeyFile \(tls.key)
          RewriteEngine On
          RewriteOptions Inherit
        </VirtualHost>

        """.write(toFile: "\(path)/apache.conf", atomically: true, encoding: .utf8)
        namespace = try IsolatedNamespace(
            resolvConf: "nameserver \(nameserver)\n", privateNetwork: false,
            bindMounts: ["/etc/davical": "\(path)/etc"])
        // Its own session: prefork ends its children by signalling its whole process group.
        apache = try namespace.start("/usr/bin/setsid", ["/usr/sbin/apache2", "-DFOREGROUND", "-f", "\(path)/apache.conf"], log: "apache.out")
        guard waitForLoopbackListener(port: httpPort, attempts: 200), waitForLoopbackListener(port: httpsPort, attempts: 200) else {
            let output = apache.log + ((try? String(contentsOfFile: "\(path)/apache/error.log", encoding: .utf8)) ?? "")
            stop()
            throw ChildProcessError("Apache (DAViCal) did not start: \(output.suffix(2_000))")
        }
    }

    /// The rows DAViCal's `create-database.sh` does not make for a user: the account, its principal
    /// with DAViCal's default privileges for others (`read-free-busy` and `schedule-deliver`:
    /// 512 + 7168, as its admin pages set them), and the collections `CreateHomeCollections`
    /// would make (calendar, `.in`, `.out`).
    private static func userSQL(_ user: String, domain: String) -> String {
        """
        INSERT INTO usr (active, email_ok, updated, username, password, fullname, email)
          VALUES (true, now(), now(), '\(user)', '**\(password)', '\(user.capitalized)', '\(user)@\(domain)');
        INSERT INTO principal (type_id, user_no, displayname, default_privileges)
          SELECT 1, user_no, fullname, 7680::BIT(24) FROM usr WHERE username = '\(user)';
        INSERT INTO collection (user_no, parent_container, dav_name, dav_etag, dav_displayname, is_calendar, created, modified, resourcetypes)
          SELECT user_no, '/\(user)/', '/\(user)/' || name || '/', '-1', fullname || ' ' || name, true, now(), now(),
                 '<DAV::collection/><urn:ietf:params:xml:ns:caldav:calendar/>'
          FROM usr, unnest(ARRAY['calendar', '.in', '.out']) AS name WHERE username = '\(user)';
        """
    }

    public var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    /// The calendar objects in `user`'s scheduling Inbox (`/caldav.php/<user>/.in/`), read from
    /// DAViCal's own store.
    public func inbox(of user: String) throws -> [String] {
        let rows = try database.psql(
            """
            SELECT translate(encode(convert_to(caldav_data, 'UTF8'), 'base64'), E'\\n', '') FROM caldav_data
            WHERE dav_name LIKE '/\(user)/.in/%' ORDER BY created
            """, database: "davical")
        return rows.split(separator: "\n").compactMap { Data(base64Encoded: String($0)) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Stores a calendar object in `user`'s calendar as a CalDAV client would (PUT); DAViCal then
    /// schedules it (iSchedule to attendees whose domain has it). Returns the HTTP status.
    @discardableResult
    public func put(user: String, name: String, calendar: String) throws -> Int {
        try calDAVPut("\(baseURL)/caldav.php/\(user)/calendar/\(name)", user: user, password: Self.password, calendar: calendar)
    }

    /// A DKIM-Signature value for a request DAViCal would send, made by DAViCal's own signer
    /// (`iSchedule::signDKIM` from its `inc/iSchedule.php`, run with PHP's CLI and its key): the
    /// headers it signs are iSchedule-Version `1.0`, Originator, Recipient and Content-Type.
    public func signature(originator: String, recipient: String, contentType: String, body: [UInt8]) throws -> String {
        let script = """
            set_include_path('/usr/share/davical/inc:/usr/share/awl/inc:' . get_include_path());
            $c = new stdClass();
            $c->scheduling_dkim_domain = $argv[1];
            $c->scheduling_dkim_selector = '\(Self.selector)';
            $c->schedule_private_key = $argv[2];
            function dbg_error_log() {}
            require_once('iSchedule.php');
            $headers = array('iSchedule-Version' => '1.0', 'Originator' => $argv[3], 'Recipient' => $argv[4], 'Content-Type' => $argv[5]);
            echo (new iSchedule())->signDKIM($headers, stream_get_contents(STDIN));
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/php")
        process.arguments = ["-r", script, domain, directory.appendingPathComponent("dkim.key").path, originator, recipient, contentType]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, text.hasPrefix("v=1;") else { throw ChildProcessError("DAViCal's signer failed: \(text)") }
        return text
    }

    /// Apache's error log (DAViCal's PHP errors land there).
    public var errorLog: String { (try? String(contentsOfFile: directory.appendingPathComponent("apache/error.log").path, encoding: .utf8)) ?? "" }

    public func stop() {
        apache.stop()
        namespace.stop()
        database.stop()
    }

    deinit { stop() }
}
