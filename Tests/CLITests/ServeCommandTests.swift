import Foundation
import TestSupport
import TestTraits
import Testing

/// `serve` refuses a bad configuration with one line naming the key, before it listens anywhere.
@Suite("serve command", .waitsOnProcesses)
struct ServeCommandTests {
    func write(_ yaml: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("gateway.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("a configuration error names the key and exits non-zero")
    func badConfiguration() throws {
        let file = try write("listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    upstream: caldav-server\n")
        let result = try CLIRunner.run(["serve", "--config", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("domains.example.com.upstream: not a URL"), "\(result.stderr)")
        #expect(!result.output.contains("listening on"))
    }

    @Test("an intake on a non-loopback listener without a secret is refused at start")
    func openIntake() throws {
        let file = try write("listeners:\n  - url: http://0.0.0.0:1\n    intake: true\ndomains:\n  example.com:\n    upstream: http://127.0.0.1:2/\n")
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("outbound.secret: required: listeners[0] (http://0.0.0.0:1) serves the outbound intake"), "\(result.stderr)")
    }

    @Test("--check-config refuses dns.dnssec: validate with a validator neither on loopback nor trusted; loads it once trusted")
    func untrustedValidator() throws {
        let base = "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    upstream: http://127.0.0.1:2/\n"
        let dns = "dns:\n  servers: [192.0.2.53]\n  dnssec: validate\n"
        let refused = try CLIRunner.run(["serve", "--config", try write(base + dns).path, "--check-config"])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains(
                "dns.dnssec: validate believes the AD bit only from a validating resolver on loopback or in dns.trusted-validators; 192.0.2.53 is neither"
            ),
            "\(refused.stderr)")
        let trusted = try CLIRunner.run(["serve", "--config", try write(base + dns + "  trusted-validators: [192.0.2.53]\n").path, "--check-config"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
    }

    @Test("--check-config: infer-requests-from must name trusted senders and needs organizer-calendars, and says what it does")
    func inferRequestsFrom() throws {
        let base = "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    upstream: http://127.0.0.1:2/\n"
        let intake = "imip-intake:\n  reinject-url: smtp://127.0.0.1:10026\n  trusted-senders: [radicale@example.com]\n"
        let untrusted = try CLIRunner.run([
            "serve", "--config", try write(base + intake + "  infer-requests-from: [other@example.com]\n").path, "--check-config"
        ])
        #expect(untrusted.status != 0)
        #expect(
            untrusted.stderr.contains("imip-intake.infer-requests-from[0]: 'other@example.com' is not one of imip-intake.trusted-senders"),
            "\(untrusted.stderr)")
        let unconfirmed = try CLIRunner.run([
            "serve", "--config", try write(base + intake + "  infer-requests-from: [Radicale@example.com]\n").path, "--check-config"
        ])
        #expect(unconfirmed.status != 0)
        #expect(
            unconfirmed.stderr.contains("imip-intake.organizer-calendars: missing (required by infer-requests-from"), "\(unconfirmed.stderr)")
        let organizers = "  organizer-calendars:\n    calendars: ['http://127.0.0.1:5232/{user}/calendar/']\n    username: check\n    password: pw\n"
        let named = try CLIRunner.run([
            "serve", "--config", try write(base + intake + "  infer-requests-from: [Radicale@example.com]\n" + organizers).path, "--check-config"
        ])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(
            (named.output + named.stderr).contains(
                "calendars without METHOD from radicale@example.com count as REQUESTs, and what that sender mails goes by iSchedule only as "
                    + "the organizer's own copy (imip-intake.organizer-calendars), to its attendees"),
            "\(named.output)\(named.stderr)")
    }

    @Test(
        "--check-config on the mail filter: who may cause a signature; a trusted sender outside our domains or not an address is refused, named; a lease not longer than remote-transfer is refused"
    )
    func mailFilterSenders() throws {
        let base = "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    upstream: http://127.0.0.1:2/\n"
        let plain = try CLIRunner.run([
            "serve", "--config", try write(base + "imip-intake:\n  reinject-url: smtp://127.0.0.1:10026\n").path,
            "--check-config"
        ])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect((plain.output + plain.stderr).contains("only when the envelope sender is its organizer"), "\(plain.output)\(plain.stderr)")
        let trusted = try CLIRunner.run([
            "serve", "--config",
            try write(
                base + """
                    imip-intake:
                      reinject-url: smtp://127.0.0.1:10026
                      trusted-senders: [NoReply@example.com]
                    """
            ).path, "--check-config"
        ])
        #expect(
            trusted.status == 0 && (trusted.output + trusted.stderr).contains("trusted-senders noreply@example.com may cause a signature"),
            "\(trusted.output)\(trusted.stderr)")
        let foreign = try CLIRunner.run([
            "serve", "--config",
            try write(
                base + """
                    imip-intake:
                      reinject-url: smtp://127.0.0.1:10026
                      trusted-senders: [noreply@example.org, "\\"x y\\"@example.com"]
                    timeouts:
                      remote-transfer: 10m
                    """
            ).path, "--check-config"
        ])
        #expect(foreign.status != 0)
        #expect(foreign.stderr.contains("imip-intake.trusted-senders[0]: noreply@example.org is not in one of our domains"), "\(foreign.stderr)")
        #expect(foreign.stderr.contains("delivery.lease: (300 s) must be longer than timeouts.remote-transfer (600 s)"), "\(foreign.stderr)")
    }

    @Test("a second serve on the same SQLite data directory is refused at start, naming the first one's PID")
    func oneServePerDataDirectory() throws {
        let directory = GatewayProcess.temporaryDirectory("servelock")
        let first = try GatewayProcess(
            configuration: GatewayYAML.receiving("example.com").merged(["data-directory": "data"]), directory: directory)
        defer { first.stop() }
        let second = try CLIRunner.run(["serve", "--config", directory.appendingPathComponent("gateway.yaml").path], in: directory)
        #expect(second.status != 0)
        #expect(second.stderr.contains("data-directory: another gateway (PID \(first.process.pid))"), "\(second.stderr)")
        #expect(!second.output.contains("listening on"))
    }

    @Test("a missing key file is named by its path")
    func missingKey() throws {
        let file = try write(
            "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    dkim-keys:\n      - private-key: keys/absent.pem\n")
        let result = try CLIRunner.run(["serve", "--config", file.path])
        #expect(result.status != 0)
        let expected = file.deletingLastPathComponent().appendingPathComponent("keys/absent.pem").path
        #expect(result.stderr.contains("domains.example.com.dkim-keys[0].private-key: file \(expected) does not exist"), "\(result.stderr)")
    }

    @Test("a key file that is not a key is refused at start, naming the key")
    func unreadableKey() throws {
        let file = try write("listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    dkim-keys:\n      - private-key: gateway.yaml\n")
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("domains.example.com.dkim-keys[0].private-key:"), "\(result.stderr)")
        #expect(result.stderr.contains("is not a PEM RSA private key"))
    }

    @Test("--check-config checks keys and store and reports without listening, creating nothing; serve then creates the key")
    func checkConfig() throws {
        let file = try write(
            "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    dkim-keys:\n      - private-key: k.pem\n        create-if-missing: true\n"
        )
        let directory = file.deletingLastPathComponent()
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("is valid: 1 listener(s), 1 domain(s)"))
        #expect(result.stderr.contains("would create a development DKIM key at \(directory.path)/k.pem"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["gateway.yaml"])
    }

    @Test("--check-config lists every problem of a file, one line each with its key path, and creates nothing")
    func everyProblem() throws {
        let file = try write(
            """
            listeners:
              - url: http://127.0.0.1:1
              - url: ftp://nowhere
            data-directory: state
            domains:
              example.com:
                dkim-keys:
                  - private-key: keys/k.pem
                    create-if-missing: true
                upstream: http://127.0.0.1:8008/
                upstrem-trust: none
            limits:
              max-redirects: 50
            timeouts:
              connect: soon
            imip:
              smtp-url: mail.example.com
              from: a@b
            """)
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("5 problems") == true, "\(result.stderr)")
        for key in [
            "listeners[1].url:", "domains.example.com.upstrem-trust: unknown key", "limits.max-redirects:", "timeouts.connect:",
            "imip.smtp-url:"
        ] {
            #expect(lines.contains { $0.hasPrefix(key) }, "\(key) in \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["gateway.yaml"])
    }

    @Test("--env-file supplies the service's environment (systemd EnvironmentFile lines); a bad line is named")
    func environmentFile() throws {
        let file = try write(
            "listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    upstream: http://127.0.0.1:8008/\n"
                + "outbound:\n  secret-env: CLI_TEST_INTAKE_SECRET\n")
        let missing = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(missing.status != 0 && missing.stderr.contains("outbound.secret-env: environment variable CLI_TEST_INTAKE_SECRET is not set"))
        let environment = file.deletingLastPathComponent().appendingPathComponent("gateway.env")
        try "# the unit's EnvironmentFile\n\nCLI_TEST_INTAKE_SECRET=\"s3cret value\"\n".write(to: environment, atomically: true, encoding: .utf8)
        let given = try CLIRunner.run(["serve", "--config", file.path, "--check-config", "--env-file", environment.path])
        #expect(given.status == 0, "\(given.stderr)")
        // `-`: standard input (what a service user that may not read the file gets from root).
        let piped = try ChildProcess(
            "/bin/sh",
            ["-c", "printf 'CLI_TEST_INTAKE_SECRET=x\\n' | '\(CLIRunner.binary.path)' serve --config '\(file.path)' --check-config --env-file -"],
            logPath: environment.path + ".log")
        #expect(piped.waitForExit(timeout: 60) == 0, "\(piped.log)")
        try "CLI_TEST_INTAKE_SECRET\n".write(to: environment, atomically: true, encoding: .utf8)
        let bad = try CLIRunner.run(["serve", "--config", file.path, "--check-config", "--env-file", environment.path])
        #expect(bad.status != 0 && bad.stderr.contains("--env-file \(environment.path) line 1: expected KEY=VALUE"), "\(bad.stderr)")
    }
}

extension ServeCommandTests {
    /// An https listener whose certificate and key files hold no PEM (the configuration file itself).
    static func notPEMListener(_ extra: GatewayYAML.Value = [:]) -> GatewayYAML {
        let listener: GatewayYAML.Value = ["url": "https://127.0.0.1:1", "certificate": "gateway.yaml", "private-key": "gateway.yaml"]
        return [
            "listeners": [listener.merging(extra)],
            "domains": ["example.com": ["dkim-keys": [["private-key": "k.pem", "create-if-missing": true]]]]
        ]
    }

    @Test("an https listener whose certificate is not PEM is named by its key")
    func badCertificate() throws {
        let file = try write(Self.notPEMListener().text)
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("listeners[0].certificate:"), "\(result.stderr)")
    }

    @Test("a client-ca-file that holds no PEM certificate is named by its key, before any client connects")
    func badClientCA() throws {
        let file = try write(Self.notPEMListener(["client-ca-file": "gateway.yaml"]).text)
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("listeners[0].client-ca-file:") && result.stderr.contains("holds no PEM certificate"), "\(result.stderr)")
    }
}

extension ServeCommandTests {
    @Test("an unusable data directory is named by its key, by --check-config as by serve")
    func unusableDataDirectory() throws {
        let file = try write(
            """
            listeners:
              - url: http://127.0.0.1:1
            data-directory: gateway.yaml
            domains:
              example.com:
                dkim-keys:
                  - private-key: k.pem
                    create-if-missing: true
            """)
        for (arguments, problem) in [(["--check-config"], "is not a directory"), ([], "cannot open the queue")] {
            let result = try CLIRunner.run(["serve", "--config", file.path] + arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains("data-directory: ") && result.stderr.contains(problem), "\(arguments): \(result.stderr)")
            #expect(!result.output.contains("listening on"))
        }
    }
}

extension ServeCommandTests {
    @Test("a port in use stops the start with one line naming the listener, its URL and the reason")
    func portInUse() throws {
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let file = try write(
            "listeners:\n  - url: http://127.0.0.1:0\n  - url: http://127.0.0.1:\(port)\ndata-directory: data\n"
                + "domains:\n  example.com:\n    upstream: http://127.0.0.1:8008/\n")
        let result = try CLIRunner.run(["serve", "--config", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("listeners[1].url: cannot listen on http://127.0.0.1:\(port): Address already in use"), "\(result.stderr)")
        #expect(!result.stderr.contains("queue claim failed"))
    }
}
