public import Foundation

/// A test certificate authority and server certificates, made with the openssl CLI.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }

    public init() throws {
        try Prerequisites.require(Prerequisites.certificates, for: "certificates (openssl)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ischedule-gateway test CA"
        ])
    }

    /// Issues `name.pem`/`name.key` for the subject alternative names given (e.g. `DNS:localhost`).
    /// Each call writes its own files and takes a random serial (no shared `ca.srl`: `-CAcreateserial`
    /// read and rewrote one file per CA, and concurrent issues on one CA raced on it), so concurrent
    /// tests sharing the CA do not collide.
    /// `days: -1` issues a certificate that has already expired.
    public func issue(_ subject: String, subjectAltNames: [String], days: Int = 2) throws -> (cert: String, key: String) {
        let name = "\(subject)-\(UUID().uuidString.prefix(8))"
        try "subjectAltName=\(subjectAltNames.joined(separator: ","))\n"
            .write(to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
            "-subj", "/CN=\(subject)"
        ])
        try openssl([
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
            String(UInt64.random(in: 1...UInt64(Int64.max))),
            "-out", "\(name).pem", "-days", String(days), "-extfile", "\(name).ext"
        ])
        return (directory.appendingPathComponent("\(name).pem").path, directory.appendingPathComponent("\(name).key").path)
    }

    /// A self-signed certificate for `subject` (no CA vouches for it: a DANE-EE receiver's).
    public func selfSigned(_ subject: String, subjectAltNames: [String]) throws -> (cert: String, key: String) {
        let name = "\(subject)-self-\(UUID().uuidString.prefix(8))"
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2",
            "-subj", "/CN=\(subject)", "-addext", "subjectAltName=\(subjectAltNames.joined(separator: ","))"
        ])
        return (directory.appendingPathComponent("\(name).pem").path, directory.appendingPathComponent("\(name).key").path)
    }

    /// The TLSA association data (hex) of the certificate in `pem`, as `openssl` computes it:
    /// selector 0 the whole certificate, 1 its SubjectPublicKeyInfo; matching 1 SHA-256, 2 SHA-512.
    public static func tlsaData(_ pem: String, selector: Int = 1, matching: Int = 1) throws -> String {
        let extract =
            selector == 1 ? "openssl x509 -in \"$1\" -noout -pubkey | openssl pkey -pubin -outform DER" : "openssl x509 -in \"$1\" -outform DER"
        let digest = matching == 2 ? "openssl dgst -sha512 -r" : "openssl dgst -sha256 -r"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tlsa-\(UUID().uuidString.prefix(8)).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let output = try runToEnd("/bin/bash", ["-c", "set -o pipefail; \(extract) | \(digest)", "tlsa", pem], log: log)
        guard let hex = output.split(separator: " ").first, hex.count >= 64 else { throw ChildProcessError("openssl gave no digest: \(output)") }
        return String(hex)
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ChildProcessError("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
    }
}

/// A real HTTPS server (Tests/Helpers/https_server.py) on a loopback port the kernel chose.
public final class TestHTTPSServer: @unchecked Sendable {
    public let port: UInt16
    private let process: ChildProcess

    /// - Parameter keyDirectory: served at `/.well-known/domainkey/<d>/<s>` from `<dir>/<d>/<s>`.
    /// - Parameter launcher: a prefix that starts the server elsewhere (`IsolatedNamespace.launcher`).
    public init(cert: String, key: String, keyDirectory: String? = nil, launcher: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers/https_server.py").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("https-\(UUID().uuidString).log").path
        let command = launcher + ["/usr/bin/env", "python3", script, cert, key] + (keyDirectory.map { [$0] } ?? [])
        process = try ChildProcess(command[0], Array(command.dropFirst()), logPath: log)
        guard let port = process.announcedPort() else {
            let output = process.log
            process.stop()
            throw ChildProcessError("HTTPS test server did not start: \(output)")
        }
        self.port = port
    }

    /// "METHOD /path" of every request the server answered, in order.
    public var requests: [String] {
        process.log.split(separator: "\n").filter { $0.hasPrefix("request ") }.map { String($0.dropFirst(8)) }
    }

    public func stop() { process.stop() }

    deinit { stop() }
}
