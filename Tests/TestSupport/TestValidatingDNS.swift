public import Foundation

/// DNSSEC on loopback, with real parts: NSD serves the zones, those to be signed signed by
/// `ldns-signzone` (ldnsutils) with a fresh ECDSA P-256 key each, and unbound validates in front
/// of it, each signed zone's key its trust anchor. An unsigned zone has no anchor, so unbound
/// answers it as insecure (no AD bit); a bogus zone is signed with its record signatures broken
/// on purpose, so unbound answers SERVFAIL. Both servers are stopped by their PIDs.
public final class TestValidatingDNS: @unchecked Sendable {
    public enum Signing: Sendable, Equatable {
        case signed
        case unsigned
        /// Signed, then every signature over SRV, TXT, TLSA, A and AAAA records corrupted.
        case bogus
    }

    /// One zone: its records (without `$ORIGIN`, as `TestDNSServer` takes them) and how it is signed.
    public struct Zone: Sendable {
        public let text: String
        public let signing: Signing

        public init(_ text: String, _ signing: Signing) {
            self.text = text
            self.signing = signing
        }
    }

    /// The authoritative server (NSD): ask it to see what is published, unvalidated.
    public let authoritative: TestDNSServer
    /// unbound's port on 127.0.0.1.
    public let port: UInt16
    public let directory: URL
    private let process: ChildProcess

    /// unbound, as `dns.servers` and `--dns-server` take it.
    public var server: String { "127.0.0.1:\(port)" }

    public init(zones: [String: Zone]) throws {
        try Prerequisites.require(Prerequisites.validatingDNS, for: "validating DNS (NSD, ldns-signzone, unbound)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dnssec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var served: [String: String] = [:]
        var anchors: [String] = []
        for (name, zone) in zones {
            guard zone.signing != .unsigned else {
                served[name] = zone.text
                continue
            }
            let (signed, anchor) = try Self.sign(name, zone.text, in: directory)
            served[name] = zone.signing == .bogus ? Self.breakSignatures(signed) : signed
            anchors.append(anchor)
        }
        authoritative = try TestDNSServer(zones: served)
        var lastError = ""
        for _ in 0..<5 {
            let port = freeLoopbackPort()
            let configuration = Self.unboundConfiguration(
                port: port, directory: directory, anchors: anchors, stubs: zones.keys.sorted(), authoritative: authoritative.server)
            let configPath = directory.appendingPathComponent("unbound-\(port).conf").path
            try configuration.write(toFile: configPath, atomically: true, encoding: .utf8)
            let logPath = directory.appendingPathComponent("unbound-\(port).log").path
            let candidate = try ChildProcess("/usr/sbin/unbound", ["-d", "-c", configPath], logPath: logPath)
            let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            waitUntil(seconds: 10) { !candidate.isRunning || log().contains("start of service") }
            if candidate.isRunning && log().contains("start of service") {
                self.port = port
                self.process = candidate
                return
            }
            lastError = log() + candidate.log
            candidate.stop()
        }
        authoritative.stop()
        throw ChildProcessError("unbound did not start: \(lastError)")
    }

    /// Signs `text` as zone `name` with a new key; the signed zone and the key's DNSKEY record
    /// (the trust anchor).
    private static func sign(_ name: String, _ text: String, in directory: URL) throws -> (zone: String, anchor: String) {
        let zoneDirectory = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: zoneDirectory, withIntermediateDirectories: true)
        let log = zoneDirectory.appendingPathComponent("sign.log").path
        let zonePath = zoneDirectory.appendingPathComponent("zone").path
        try "$ORIGIN \(name).\n$TTL 300\n\(text)\n".write(toFile: zonePath, atomically: true, encoding: .utf8)
        // ldns-keygen writes K<name>+013+<tag>.{key,private,ds} into the working directory.
        let keyName = try runToEnd(
            "/bin/sh", ["-c", "cd \"$1\" && exec /usr/bin/ldns-keygen -a ECDSAP256SHA256 -k \"$2\"", "keygen", zoneDirectory.path, name], log: log
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = zoneDirectory.appendingPathComponent(keyName).path
        // Valid from yesterday: a clock a little behind must not see signatures from the future.
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMddHHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let inception = formatter.string(from: Date().addingTimeInterval(-86_400))
        _ = try runToEnd("/usr/bin/ldns-signzone", ["-i", inception, "-f", zonePath + ".signed", zonePath, key], log: log)
        let signed = try String(contentsOfFile: zonePath + ".signed", encoding: .utf8)
        let anchor =
            try String(contentsOfFile: key + ".key", encoding: .utf8)
            .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return (signed, anchor)
    }

    /// The signed zone with the first octet of every signature over data records changed.
    static func breakSignatures(_ zone: String) -> String {
        zone.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 5, fields[3] == "RRSIG", ["SRV", "TXT", "TLSA", "A", "AAAA"].contains(String(fields[4])),
                let signature = fields.last, let first = signature.first
            else { return String(line) }
            let replaced = (first == "A" ? "B" : "A") + signature.dropFirst()
            return fields.dropLast().joined(separator: " ") + " " + replaced
        }.joined(separator: "\n")
    }

    private static func unboundConfiguration(port: UInt16, directory: URL, anchors: [String], stubs: [String], authoritative: String) -> String {
        let nsd = authoritative.replacingOccurrences(of: ":", with: "@")
        var text = """
            server:
              interface: 127.0.0.1@\(port)
              port: \(port)
              do-ip6: no
              username: ""
              chroot: ""
              directory: "\(directory.path)"
              pidfile: "\(directory.path)/unbound-\(port).pid"
              use-syslog: no
              logfile: ""
              verbosity: 1
              num-threads: 1
              do-not-query-localhost: no
              local-zone: "test." nodefault
              trust-anchor-signaling: no
              root-key-sentinel: no
              val-log-level: 2
              ede: yes

            """
        for anchor in anchors { text += "  trust-anchor: \"\(anchor)\"\n" }
        text += "remote-control:\n  control-enable: no\n"
        for stub in stubs { text += "stub-zone:\n  name: \"\(stub)\"\n  stub-addr: \(nsd)\n" }
        return text
    }

    public func stop() {
        process.stop()
        authoritative.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
