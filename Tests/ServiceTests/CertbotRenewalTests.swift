import Foundation
import TestSupport
import TestTraits
import Testing

/// Certificates that renew themselves, the conventional way: certbot against Debian's pebble
/// (an ACME server for tests; http-01 validated for real, pebble resolving the name with the
/// tests' NSD), the shipped deploy hook (deploy/certbot/deploy-hook.sh) copying the lineage into
/// the gateway's TLS directory and reloading it. The gateway serves the issued certificate, and
/// after `certbot renew` the renewed one, without a restart.
@Suite("certbot and pebble: an issued certificate served, a renewal picked up", .serialized, .waitsOnProcesses)
struct CertbotRenewalTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Pebble on loopback ports chosen at run time (ACME, management, http-01 validation), its API
    /// certificate from `certificates`, names resolved with `dns`. Stopped by its PID.
    static func pebble(in directory: URL, certificates: TestCertificates, dns: String) throws -> (ChildProcess, acme: UInt16, http: UInt16) {
        let api = try certificates.issue("pebble", subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"])
        let (acme, management, http, tls) = (freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort())
        let config: [String: Any] = [
            "pebble": [
                "listenAddress": "127.0.0.1:\(acme)", "managementListenAddress": "127.0.0.1:\(management)", "certificate": api.cert,
                "privateKey": api.key, "httpPort": Int(http), "tlsPort": Int(tls), "ocspResponderURL": "", "externalAccountBindingRequired": false
            ]
        ]
        let file = directory.appendingPathComponent("pebble.json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        let process = try ChildProcess(
            "/usr/bin/env", ["PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "/usr/bin/pebble", "-config", file.path, "-dnsserver", dns],
            logPath: directory.appendingPathComponent("pebble.log").path)
        guard waitForLoopbackListener(port: acme, attempts: 200) else {
            process.stop()
            throw ChildProcessError("pebble did not start: \(process.log)")
        }
        return (process, acme, http)
    }

    /// The serial number of the certificate a TLS server on `port` presents for `name` (each run
    /// its own log: `runToEnd` answers with the whole log).
    static func servedSerial(port: UInt16, name: String, log: String) -> String? {
        let log = log + "-\(UUID().uuidString.prefix(6))"
        let script = "openssl s_client -connect 127.0.0.1:\(port) -servername \(name) </dev/null 2>/dev/null | openssl x509 -noout -serial"
        return (try? runToEnd("/bin/bash", ["-c", script], log: log))?.split(separator: "\n").first { $0.hasPrefix("serial=") }.map(String.init)
    }

    static func fileSerial(_ path: String, log: String) -> String? {
        let log = log + "-\(UUID().uuidString.prefix(6))"
        return (try? runToEnd("/usr/bin/openssl", ["x509", "-noout", "-serial", "-in", path], log: log))?.split(separator: "\n").first {
            $0.hasPrefix("serial=")
        }.map(String.init)
    }

    @Test("certbot issues from pebble, the deploy hook installs it, the gateway serves it; certbot renew replaces it without a restart")
    func issuedAndRenewed() throws {
        try Prerequisites.require(Prerequisites.acme, for: "certbot and pebble")
        let certificates = try TestCertificates()
        let dns = try TestDNSServer(zones: ["alpha.test": zoneHead("alpha.test") + "isched IN A 127.0.0.1\n"])
        defer { dns.stop() }
        let directory = GatewayProcess.temporaryDirectory("certbot")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (pebble, acme, http) = try Self.pebble(in: directory, certificates: certificates, dns: dns.server)
        defer { pebble.stop() }
        let tlsDirectory = directory.appendingPathComponent("tls").path
        let pidFile = directory.appendingPathComponent("gateway.pid").path
        let hook = Self.repository.appendingPathComponent("deploy/certbot/deploy-hook.sh").path
        func certbot(_ arguments: [String]) throws -> String {
            let environment = [
                "REQUESTS_CA_BUNDLE=\(certificates.caFile)", "ISCHEDULE_TLS_DIR=\(tlsDirectory)", "ISCHEDULE_TLS_GROUP=",
                "ISCHEDULE_RELOAD=[ ! -s \(pidFile) ] || kill -HUP $(cat \(pidFile))"
            ]
            let paths = ["--config-dir", "\(directory.path)/le", "--work-dir", "\(directory.path)/le-work", "--logs-dir", "\(directory.path)/le-logs"]
            return try runToEnd(
                "/usr/bin/env", environment + ["/usr/bin/certbot"] + arguments + paths + ["--non-interactive"],
                log: directory.appendingPathComponent("certbot-\(UUID().uuidString.prefix(6)).log").path, timeout: 180)
        }
        let issued = try certbot([
            "certonly", "--standalone", "--agree-tos", "--register-unsafely-without-email", "--server", "https://127.0.0.1:\(acme)/dir",
            "--http-01-address", "127.0.0.1", "--http-01-port", String(http), "-d", "isched.alpha.test", "--deploy-hook", hook
        ])
        let fullchain = tlsDirectory + "/fullchain.pem"
        let first = try #require(Self.fileSerial(fullchain, log: directory.path + "/x509.log"), "\(issued)\n\(pebble.log.suffix(1_500))")

        var configuration = GatewayYAML.local("alpha.test", key: "keys/alpha.pem", upstream: "http://127.0.0.1:9/")
        configuration["listeners"] = [
            ["url": .scalar("https://127.0.0.1:0"), "certificate": .scalar(fullchain), "private-key": .scalar(tlsDirectory + "/privkey.pem")],
            ["url": "http://127.0.0.1:0"]
        ]
        let gateway = try GatewayProcess(configuration: configuration, directory: directory, listeners: 2)
        defer { _ = gateway.stop() }
        try String(gateway.process.pid).write(toFile: pidFile, atomically: true, encoding: .utf8)
        let port = try #require(gateway.port("https"))
        #expect(Self.servedSerial(port: port, name: "isched.alpha.test", log: directory.path + "/s_client.log") == first)

        let renewed = try certbot(["renew", "--force-renewal", "--no-random-sleep-on-renew", "--server", "https://127.0.0.1:\(acme)/dir"])
        let second = try #require(Self.fileSerial(fullchain, log: directory.path + "/x509.log"), "\(renewed)")
        #expect(second != first, "\(renewed)")
        #expect(
            waitUntil(seconds: 20) { Self.servedSerial(port: port, name: "isched.alpha.test", log: directory.path + "/s_client.log") == second },
            "\(renewed)\n\(gateway.log.suffix(1_500))")
        #expect(gateway.process.isRunning)
    }

    @Test("the deploy hook refuses a TLS directory that is a symbolic link, not root's, or writable by others; it only acts for ISCHEDULE_CERT_NAME")
    func deployHookRefusesForeignDirectories() throws {
        let hook = Self.repository.appendingPathComponent("deploy/certbot/deploy-hook.sh").path
        let base = GatewayProcess.temporaryDirectory("hook")
        let lineage = base.appendingPathComponent("live")
        try FileManager.default.createDirectory(at: lineage, withIntermediateDirectories: true)
        for name in ["fullchain.pem", "privkey.pem"] {
            try "new \(name)\n".write(to: lineage.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let victim = base.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base.appendingPathComponent("link").path, withDestinationPath: victim.path)
        let open = base.appendingPathComponent("open")
        try FileManager.default.createDirectory(at: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        func run(_ target: String, name: String? = nil) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [hook]
            process.environment = [
                "PATH": "/usr/bin:/bin", "RENEWED_LINEAGE": lineage.path, "RENEWED_DOMAINS": "isched.alpha.test", "ISCHEDULE_TLS_DIR": target,
                "ISCHEDULE_TLS_GROUP": "", "ISCHEDULE_RELOAD": "true"
            ].merging(name.map { ["ISCHEDULE_CERT_NAME": $0] } ?? [:]) { _, new in new }
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(run(base.appendingPathComponent("link").path) != 0)
        #expect(run(open.path) != 0)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: victim.path).isEmpty
                && FileManager.default.contentsOfDirectory(atPath: open.path).isEmpty)
        let fresh = base.appendingPathComponent("tls").path
        #expect(run(fresh, name: "other.alpha.test") == 0 && !FileManager.default.fileExists(atPath: fresh))
        #expect(run(fresh, name: "isched.alpha.test") == 0)
        #expect(try String(contentsOfFile: fresh + "/privkey.pem", encoding: .utf8) == "new privkey.pem\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: fresh + "/privkey.pem")[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o640)
    }
}
