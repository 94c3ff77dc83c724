import Foundation
import TestSupport
import Testing

/// `serve` refuses a bad configuration with one line naming the key, before it listens anywhere.
@Suite("serve command")
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

    @Test("a missing key file is named by its path")
    func missingKey() throws {
        let file = try write("listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    dkim-keys:\n      - private-key: keys/absent.pem\n")
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

    @Test("--check-config loads keys and reports without listening")
    func checkConfig() throws {
        let file = try write("listeners:\n  - url: http://127.0.0.1:1\ndomains:\n  example.com:\n    dkim-keys:\n      - private-key: k.pem\n        create-if-missing: true\n")
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("is valid: 1 listener(s), 1 domain(s)"))
        #expect(result.stderr.contains("created a development DKIM key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file.deletingLastPathComponent().appendingPathComponent("k.pem").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}

extension ServeCommandTests {
    @Test("an https listener whose certificate is not PEM is named by its key")
    func badCertificate() throws {
        let file = try write("""
            listeners:
              - url: https://127.0.0.1:1
                certificate: gateway.yaml
                private-key: gateway.yaml
            domains:
              example.com:
                dkim-keys:
                  - private-key: k.pem
                    create-if-missing: true
            """)
        let result = try CLIRunner.run(["serve", "--config", file.path, "--check-config"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("listeners[0].certificate:"), "\(result.stderr)")
    }
}

extension ServeCommandTests {
    @Test("an unusable data directory is named by its key, by --check-config as by serve")
    func unusableDataDirectory() throws {
        let file = try write("""
            listeners:
              - url: http://127.0.0.1:1
            data-directory: gateway.yaml
            domains:
              example.com:
                dkim-keys:
                  - private-key: k.pem
                    create-if-missing: true
            """)
        for arguments in [["--check-config"], []] {
            let result = try CLIRunner.run(["serve", "--config", file.path] + arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains("data-directory: cannot open the queue"), "\(arguments): \(result.stderr)")
            #expect(!result.output.contains("listening on"))
        }
    }
}
