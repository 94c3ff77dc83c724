import Foundation
import ISchedule
import Testing

@testable import Gateway

/// The configuration file: every error names its key; secrets come from the environment.
@Suite("Configuration")
struct ConfigurationTests {
    static let keyFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-test-key.pem").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("not used by the loader".utf8))
        return path
    }()

    static func minimal(_ domainExtra: String = "", _ extra: String = "") -> String {
        """
        listeners:
          - url: http://127.0.0.1:8080
        domains:
          example.com:
            dkim-keys:
              - selector: s1
                private-key: \(keyFile)
            upstream: http://127.0.0.1:8008/ischedule
        \(domainExtra)
        \(extra)
        """
    }

    func error(_ yaml: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml, directory: "/tmp", environment: environment)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("every problem of a domain section is named: a misspelt key, a bad upstream URL and a missing key file, not the first alone")
    func everyProblemOfASectionIsNamed() {
        let yaml = """
            listeners:
              - url: http://127.0.0.1:8080
            domains:
              example.com:
                upstreem: http://127.0.0.1:8008/
                upstream: htp:/bad
                upstream-trust: sometimes
                dkim-keys:
                  - selector: "bad selector"
                    private-key: /nonexistent/key.pem
            remote-domains:
              partner.example:
                uri: ftp://partner.example/
                dialect: draft-99
                signing-domains: ["not a domain"]
            """
        let lines = (error(yaml) ?? "").split(separator: "\n").map(String.init)
        for expected in [
            "domains.example.com.upstreem: unknown key", "domains.example.com.upstream: ", "domains.example.com.upstream-trust: 'sometimes'",
            "domains.example.com.dkim-keys[0].selector: 'bad selector'", "domains.example.com.dkim-keys[0].private-key: file /nonexistent/key.pem",
            "remote-domains.partner.example.uri: ", "remote-domains.partner.example.dialect: 'draft-99'",
            "remote-domains.partner.example.signing-domains[0]: 'not a domain'"
        ] {
            #expect(lines.contains { $0.hasPrefix(expected) }, "\(expected) not in:\n\(lines.joined(separator: "\n"))")
        }
        #expect(!lines.contains { $0.contains("missing (required by delivery: upstream)") }, "a bad upstream is not also a missing one")
        #expect(lines.count == 8, "\(lines.joined(separator: "\n"))")
    }

    @Test("the minimal file loads with safe defaults")
    func defaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: Self.minimal(), directory: "/tmp")
        #expect(configuration.listeners.map(\.url) == ["http://127.0.0.1:8080"])
        #expect(configuration.domain("EXAMPLE.com")?.upstreamTrust == GatewayConfiguration.UpstreamTrust.none)
        #expect(configuration.intake.allowFrom.map(\.description) == ["127.0.0.0/8", "::1"])
        #expect(configuration.intake.secret == nil)
        #expect(configuration.allowPrivateAddresses == false)
        #expect(configuration.limits.maxRedirects == 3)
        #expect(configuration.dkim.publishedQueryMethods == [.dnsTXT, .httpWellKnown])
        #expect(configuration.timeouts.freeBusy == 10)
    }

    @Test(
        "errors name the key and the problem",
        arguments: [
            (
                "listeners:\n  - url: ftp://x\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/",
                "listeners[0].url: 'ftp://x' is not http(s)://ADDRESS:PORT"
            ),
            ("listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: not a url", "domains.a.test.upstream: not a URL"),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: https://caldav.a.test/",
                "domains.a.test.upstream-trust: 'none' is only allowed for a loopback upstream"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\n    upstrem-trust: none",
                "domains.a.test.upstrem-trust: unknown key"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    dkim-keys:\n      - private-key: /nonexistent/k.pem",
                "domains.a.test.dkim-keys[0].private-key: file /nonexistent/k.pem does not exist"
            ),
            ("listeners:\n  - url: https://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/", "listeners[0].certificate: missing"),
            ("listeners: []\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/", "listeners: at least one listener is required"),
            ("listeners:\n  - url: http://127.0.0.1:1\n", "domains: at least one domain of ours is required"),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\ntimeouts:\n  connect: soon",
                "timeouts.connect: 'soon' is not a duration"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\noutbound:\n  allow-from: [10.0.0.300]",
                "outbound.allow-from[0]: '10.0.0.300' is not an IP address"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\ndns:\n  servers: [resolver.example]",
                "dns.servers[0]: 'resolver.example' is not an IPv4 address"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nlimits:\n  max-redirects: 50",
                "limits.max-redirects: 50 is outside 0…10"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nimip:\n  smtp-url: mail.example.com\n  from: a@b",
                "imip.smtp-url: 'mail.example.com' is not smtp://HOST[:PORT]"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nimip-intake:\n  reinject-url: smtps://127.0.0.1:465",
                "imip-intake.reinject-url: 'smtps://127.0.0.1:465' is not smtp://HOST[:PORT]"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nimip-intake:\n  reinject: smtp://127.0.0.1:10026",
                "imip-intake.reinject-url: missing"
            ),
            ("listeners: [\n", "not valid YAML"),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\ndelivery:\n  retry-initial: 200ms",
                "delivery.retry-initial: 200ms is outside 1.0…86400.0 seconds"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\ndelivery:\n  retry-initial: 1m\n  retry-maximum: 30s",
                "delivery.retry-maximum: is shorter than delivery.retry-initial"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nremote-domains:\n  gamma.test:\n    dialect: draft-02",
                "remote-domains.gamma.test.dialect: 'draft-02' is not one of draft-05, draft-01"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nremote-domains:\n  gamma.test:\n    authentication: tls",
                "remote-domains.gamma.test.client-names: missing (authentication: tls needs"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\nremote-domains:\n  gamma.test:\n    authentication: mtls",
                "remote-domains.gamma.test.authentication: 'mtls' is not one of dkim, tls"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\n    client-certificate: /etc/hostname",
                "domains.a.test.client-private-key: missing (client-certificate is set)"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\n    client-ca-file: /etc/hostname\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/",
                "listeners[0].client-ca-file: only https listeners verify client certificates"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\n    free-busy:\n      calendars: [\"http://127.0.0.1/dav/shared/\"]\n      allow-from: [\"*\"]",
                "domains.a.test.free-busy.calendars[0]: 'http://127.0.0.1/dav/shared/' names no user"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\n    free-busy:\n      calendars: [\"http://127.0.0.1/{user}/\"]",
                "domains.a.test.free-busy.allow-from: missing"
            ),
            (
                "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    upstream: http://127.0.0.1/\n    free-busy:\n      calendars: [\"http://127.0.0.1/{user}/\"]\n      username: fb\n      allow-from: [peer.test]",
                "domains.a.test.free-busy.password: missing (username is set)"
            )
        ])
    func keyedErrors(yaml: String, expected: String) {
        let message = error(yaml)
        #expect(message?.hasPrefix(expected) == true || message?.contains(expected) == true, "got: \(message ?? "no error")")
    }

    @Test(
        "calendar URLs: a plain local part (letters, digits, . _ - ~) fills {user}, the address's @ encoded; any other local part gets no URL"
    )
    func freeBusyURLs() throws {
        let yaml = Self.minimal(
            "    free-busy:\n      calendars: [\"http://127.0.0.1:8080/dav/{user}/calendar/\", \"http://127.0.0.1:8080/fb?u={user}&who={address}\"]\n      allow-from: [Peer.Test]"
        )
        let settings = try #require(try ConfigurationLoader.parse(yaml: yaml, directory: "/tmp").domain("example.com")?.freeBusy)
        #expect(
            settings.calendarURLs(for: Mailbox("j.doe_x-1~@example.com")!) == [
                "http://127.0.0.1:8080/dav/j.doe_x-1~/calendar/", "http://127.0.0.1:8080/fb?u=j.doe_x-1~&who=j.doe_x-1~%40example.com"
            ])
        // A server that unquotes its path (Radicale) would read bob%2F as bob/: another user's
        // collection under a made-up address. Such local parts are nobody's calendar user here.
        let mailboxes = ["a/b", "bob&u=alice", "a=b&c'd{e}", "é", "j.doe+x", "bob%2F"].compactMap { Mailbox("\($0)@example.com") }
        #expect(mailboxes.count >= 4)
        for mailbox in mailboxes { #expect(settings.calendarURLs(for: mailbox) == nil, "\(mailbox)") }
        #expect(CalDAVCalendars.component(".") == nil && CalDAVCalendars.component("..") == nil && CalDAVCalendars.component("") == nil)
        #expect(!CalDAVCalendars.isPlain(".") && !CalDAVCalendars.isPlain(".."))
        #expect(settings.allows("peer.test") && !settings.allows("other.test"))
    }

    @Test(
        "calendar URL patterns: credentials only over https or to loopback, no user information, {user} only in the path or query; password-file reads its first line"
    )
    func calendarAccounts() throws {
        func freeBusy(_ calendars: String, _ account: String = "\n      username: fb\n      password: pw") -> String {
            Self.minimal("    free-busy:\n      calendars: [\"\(calendars)\"]\n      allow-from: [peer.test]" + account)
        }
        #expect(error(freeBusy("http://cal.example.com/{user}/")).map { $0.contains("would send the account's password in clear") } == true)
        #expect(error(freeBusy("https://cal.example.com/{user}/")) == nil)
        #expect(error(freeBusy("http://cal.example.com/{user}/", "")) == nil, "no account, nothing to protect")
        #expect(error(freeBusy("https://u:p@cal.example.com/{user}/")).map { $0.contains("carries user information") } == true)
        #expect(error(freeBusy("https://{user}.example.com/cal/")).map { $0.contains("puts {user} or {address} in the host") } == true)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fb-password-\(UUID().uuidString)").path
        try "from-file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
        let yaml = freeBusy("https://cal.example.com/{user}/", "\n      username: fb\n      password-file: \(file)")
        let settings = try #require(try ConfigurationLoader.parse(yaml: yaml, directory: "/tmp").domain("example.com")?.freeBusy)
        #expect(settings.account.password == "from-file")
        #expect(
            error(freeBusy("https://cal.example.com/{user}/", "\n      username: fb\n      password: x\n      password-file: \(file)"))
                .map { $0.contains("give one of password, password-env, password-file") } == true)
        #expect(
            error(freeBusy("https://cal.example.com/{user}/", "\n      username: fb\n      password-file: /nonexistent/pw"))
                .map { $0.contains("does not exist, is not readable or is empty") } == true)
    }

    @Test("secrets come inline or from the environment, never both")
    func secrets() throws {
        let fromEnvironment = Self.minimal("", "outbound:\n  secret-env: GATEWAY_TEST_SECRET")
        let configuration = try ConfigurationLoader.parse(yaml: fromEnvironment, directory: "/tmp", environment: ["GATEWAY_TEST_SECRET": "s3cret"])
        #expect(configuration.intake.secret == "s3cret")
        #expect(error(fromEnvironment) == "outbound.secret-env: environment variable GATEWAY_TEST_SECRET is not set")
        #expect(error(Self.minimal("", "outbound:\n  secret: a\n  secret-env: B"))?.hasPrefix("outbound.secret: give either") == true)
        let shared = Self.minimal("    upstream-trust: shared-secret\n    upstream-secret-env: UPSTREAM", "")
        let trusted = try ConfigurationLoader.parse(yaml: shared, directory: "/tmp", environment: ["UPSTREAM": "x"])
        #expect(trusted.domain("example.com")?.upstreamTrust == .sharedSecret(header: "X-ISchedule-Gateway-Upstream", secret: "x"))
    }

    @Test("relative paths are resolved against the file's directory")
    func relativePaths() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: directory.appendingPathComponent("keys/k.pem"))
        let yaml =
            "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  a.test:\n    dkim-keys:\n      - private-key: keys/k.pem\ndata-directory: ../data"
        try yaml.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader.load(file: directory.appendingPathComponent("gateway.yaml").path)
        #expect(configuration.domains[0].keys[0].privateKeyFile == directory.appendingPathComponent("keys/k.pem").path)
        #expect(configuration.dataDirectory == directory.deletingLastPathComponent().appendingPathComponent("data").path)
    }

    @Test("the intake is served on loopback listeners by default; elsewhere only with a secret")
    func intakeListeners() throws {
        let defaults = try ConfigurationLoader.parse(
            yaml: Self.minimal(
                "",
                """
                outbound:
                  allow-from: [127.0.0.1]
                """
            ).replacingOccurrences(of: "  - url: http://127.0.0.1:8080", with: "  - url: http://127.0.0.1:8080\n  - url: http://0.0.0.0:8081"),
            directory: "/tmp")
        #expect(defaults.listeners.map(\.servesIntake) == [true, false])
        let open = Self.minimal().replacingOccurrences(of: "  - url: http://127.0.0.1:8080", with: "  - url: http://0.0.0.0:8080\n    intake: true")
        #expect(
            error(open) == "outbound.secret: required: listeners[0] (http://0.0.0.0:8080) serves the outbound intake on an address "
                + "that is not loopback; set secret-env (or intake: false there)")
        let secured = try ConfigurationLoader.parse(yaml: open + "\noutbound:\n  secret-env: S\n", directory: "/tmp", environment: ["S": "x"])
        #expect(secured.listeners[0].servesIntake && secured.intake.secret == "x")
    }

    @Test("the shipped example documents every key the loader accepts, and loads")
    func example() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("config/gateway.example.yaml"), encoding: .utf8)
        // Point the file keys at something readable; everything else is parsed as written.
        var patched = text
        for path in [
            "/etc/ischedule-gateway/tls/fullchain.pem", "/etc/ischedule-gateway/tls/privkey.pem",
            "/etc/ischedule-gateway/keys/example.com.ischedule2026.private.pem",
            "/etc/ischedule-gateway/keys/example.com.ischedule2025.private.pem", "/etc/ssl/certs/ca-certificates.crt"
        ] {
            patched = patched.replacingOccurrences(of: path, with: Self.keyFile)
        }
        let configuration = try ConfigurationLoader.parse(
            yaml: patched, directory: "/tmp",
            environment: [
                "ISCHEDULE_UPSTREAM_SECRET": "u", "ISCHEDULE_GATEWAY_SECRET": "g",
                "ISCHEDULE_SMTP_PASSWORD": "p"
            ])
        #expect(configuration.listeners.count == 2)
        #expect(configuration.domains[0].keys.map(\.selector) == ["ischedule2026", "ischedule2025"])
        #expect(configuration.remote("partner.example")?.signingDomains == ["mail.partner.example"])
        #expect(configuration.imip?.password == "p")
        #expect(configuration.delivery.maxAge == 172_800 && configuration.delivery.retryInitial == 30)
    }

    @Test("store: sqlite by default; a PostgreSQL URL with its password from the environment and verified TLS off loopback")
    func store() throws {
        #expect(try ConfigurationLoader.parse(yaml: Self.minimal(), directory: "/tmp").store == .sqlite)
        let remote = try ConfigurationLoader.parse(
            yaml: Self.minimal("", "store: postgresql://gw@db.example.com/ischedule\nstore-password-env: PGPW"),
            directory: "/tmp", environment: ["PGPW": "pw"])
        guard case .postgres(let settings) = remote.store else {
            Issue.record("not postgres")
            return
        }
        #expect(settings.endpoint == .tcp(host: "db.example.com", port: 5432) && settings.password == "pw" && settings.database == "ischedule")
        #expect(settings.security == .verifyFull(caFile: nil))
        #expect(settings.description == "postgresql://gw@db.example.com:5432/ischedule")
        let local = try ConfigurationLoader.parse(yaml: Self.minimal("", "store: postgresql://gw@127.0.0.1:6543/q"), directory: "/tmp")
        #expect(
            local.store
                == .postgres(
                    try PostgresSettings(
                        url: "postgresql://gw@127.0.0.1:6543/q", password: nil,
                        paths: PathResolver(directory: "/"), caFile: nil)))
        guard
            case .postgres(let socket) = try ConfigurationLoader.parse(
                yaml: Self.minimal("", "store: postgresql://gw@/q?host=/run/postgresql"), directory: "/tmp"
            ).store
        else { return }
        #expect(socket.endpoint == .unixSocket("/run/postgresql/.s.PGSQL.5432") && socket.security == .none)
    }

    @Test(
        "store: problems name the key",
        arguments: [
            ("store: mysql://x@y/z", "store: 'mysql://x@y/z' is neither sqlite nor a postgresql:// URL"),
            ("store: postgresql://gw:secret@127.0.0.1/q", "store: the URL holds a password; give it with store-password-env instead"),
            ("store: postgresql://gw@db.example.com/q?sslmode=require", "store: sslmode=require is not supported"),
            ("store: postgresql://gw@db.example.com/q?sslmode=disable", "store: sslmode=disable is allowed only on loopback"),
            ("store: postgresql://127.0.0.1/q", "store: no user name in the URL"),
            ("store: postgresql://gw@127.0.0.1/", "store: no database name in the URL"),
            ("store: postgresql://gw@127.0.0.1/q?application_name=x", "store: URL parameter 'application_name' is not supported"),
            ("store-password-env: NOPE\nstore: postgresql://gw@127.0.0.1/q", "store-password-env: environment variable NOPE is not set"),
            ("store-password: x", "store-password: only used with a postgresql:// store")
        ])
    func storeErrors(extra: String, expected: String) {
        let message = error(Self.minimal("", extra))
        #expect(message?.hasPrefix(expected) == true, "got: \(message ?? "no error")")
    }
}
