public import Foundation

/// A real authoritative DNS server (NSD from Debian) on 127.0.0.1 at a port chosen at run time,
/// serving zones the test writes. Stopped by its PID when the test ends.
public final class TestDNSServer: @unchecked Sendable {
    public let port: UInt16
    public let address: String
    public let directory: URL
    private let process: ChildProcess

    /// - Parameter zones: zone name → zone file text (without `$ORIGIN`; it is added).
    /// - Parameter launcher: a prefix that starts NSD elsewhere (`IsolatedNamespace.launcher`).
    /// - Parameter onPort53: an address (`127.x.y.z`) to serve on port 53 instead, for servers that
    ///   resolve through glibc and a namespace's `/etc/resolv.conf` (which cannot name a port); root only.
    public init(zones: [String: String], launcher: [String] = [], onPort53 address: String? = nil) throws {
        try Prerequisites.require(Prerequisites.nsd, for: "NSD")
        let nsd = "/usr/sbin/nsd"
        guard FileManager.default.isExecutableFile(atPath: nsd) else {
            throw ChildProcessError("NSD is not installed (deploy/install-deps.sh installs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError = ""
        for _ in 0..<5 {
            let port = address == nil ? freeLoopbackPort() : 53
            var config = """
                server:
                  ip-address: \(address ?? "127.0.0.1")@\(port)
                  port: \(port)
                  do-ip6: no
                  username: ""
                  chroot: ""
                  zonesdir: "\(directory.path)"
                  database: ""
                  zonelistfile: "\(directory.path)/zone.list"
                  xfrdfile: "\(directory.path)/xfrd.state"
                  xfrdir: "\(directory.path)"
                  pidfile: "\(directory.path)/nsd.pid"
                  server-count: 1
                  verbosity: 1
                remote-control:
                  control-enable: no

                """
            for (name, text) in zones {
                try "$ORIGIN \(name).\n$TTL 300\n\(text)\n".write(
                    to: directory.appendingPathComponent("\(name).zone"),
                    atomically: true, encoding: .utf8)
                config += "zone:\n  name: \(name)\n  zonefile: \(name).zone\n"
            }
            let configPath = directory.appendingPathComponent("nsd.conf").path
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let logPath = directory.appendingPathComponent("nsd.log").path
            let command = launcher + [nsd, "-c", configPath, "-d"]
            let candidate = try ChildProcess(command[0], Array(command.dropFirst()), logPath: logPath)
            // Ready once it logs that it started; a port taken in the meantime makes it exit.
            for _ in 0..<100 where candidate.isRunning && !candidate.log.contains("nsd started") {
                usleep(50_000)
            }
            if candidate.isRunning && candidate.log.contains("nsd started") {
                self.port = port
                self.address = address ?? "127.0.0.1"
                self.process = candidate
                return
            }
            lastError = candidate.log
            candidate.stop()
        }
        throw ChildProcessError("NSD did not start: \(lastError)")
    }

    public var server: String { "\(address):\(port)" }

    /// Serves `text` as zone `name` from now on (one of the zones it started with): writes the
    /// file, tells NSD to reload (SIGHUP) and waits, bounded, until `drill` gets `name`'s `type`
    /// answer containing `expecting` from it.
    public func replaceZone(_ name: String, with text: String, awaiting type: String, at owner: String, expecting: String) throws {
        try "$ORIGIN \(name).\n$TTL 300\n\(text)\n".write(to: directory.appendingPathComponent("\(name).zone"), atomically: true, encoding: .utf8)
        process.send(SIGHUP)
        let log = directory.appendingPathComponent("drill.log").path
        let answered = waitUntil(seconds: 10) {
            ((try? runToEnd("/usr/bin/drill", ["-p", String(port), "@\(address)", owner, type], log: log)) ?? "").contains(expecting)
        }
        guard answered else { throw ChildProcessError("NSD did not serve the new \(name) zone: \(process.log.suffix(1_000))") }
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
