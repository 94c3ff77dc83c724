public import Foundation

/// A private network and mount namespace made by the test (`unshare`), kept open by a shell that
/// sleeps in it. Processes started with `launcher` run inside: they see only its own loopback
/// interface (with the extra addresses asked for) and, when given, its own `/etc/resolv.conf`, so
/// a test can put listeners on 10.0.0.1 or a dead resolver on 127.0.0.1:53 without touching the
/// machine. Ended by its PID.
public final class IsolatedNamespace: @unchecked Sendable {
    private let holder: ChildProcess
    private let privateNetwork: Bool
    public let directory: URL

    /// - Parameters:
    ///   - addresses: extra addresses for the namespace's `lo` (`10.0.0.1/32`).
    ///   - resolvConf: the text of the namespace's `/etc/resolv.conf`, bind-mounted over the real one.
    ///   - privateNetwork: false keeps the machine's network (loopback shared with the test): only
    ///     the mounts are private.
    ///   - tmpfs: directories to mount a small tmpfs on, with its size (`"4m"`), seen only inside.
    ///   - bindMounts: target → source directories bind-mounted inside (a server's own `/etc/…`).
    public init(
        addresses: [String] = [], resolvConf: String? = nil, privateNetwork: Bool = true, tmpfs: [String: String] = [:],
        bindMounts: [String: String] = [:]
    ) throws {
        try Prerequisites.require(Prerequisites.namespaces, for: "namespace")
        self.privateNetwork = privateNetwork
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("netns-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var script = privateNetwork ? "set -e\nip link set lo up\n" : "set -e\n"
        for address in addresses { script += "ip addr add \(address) dev lo\n" }
        if let resolvConf {
            let file = directory.appendingPathComponent("resolv.conf")
            try resolvConf.write(to: file, atomically: true, encoding: .utf8)
            script += "mount --bind '\(file.path)' /etc/resolv.conf\n"
        }
        for (target, source) in bindMounts.sorted(by: { $0.key < $1.key }) {
            script += "mount --bind '\(source)' '\(target)'\n"
        }
        for (path, size) in tmpfs.sorted(by: { $0.key < $1.key }) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            script += "mount -t tmpfs -o size=\(size) tmpfs '\(path)'\n"
        }
        script += "echo namespace-ready\nexec sleep 3600\n"
        holder = try ChildProcess(
            "/usr/bin/unshare", (privateNetwork ? ["--net"] : []) + ["--mount", "--propagation", "private", "/bin/bash", "-c", script],
            logPath: directory.appendingPathComponent("holder.log").path)
        for _ in 0..<200 where holder.isRunning && !holder.log.contains("namespace-ready") { usleep(25_000) }
        guard holder.isRunning && holder.log.contains("namespace-ready") else {
            let output = holder.log
            holder.stop(grace: 0)
            throw ChildProcessError("could not make a network namespace (unshare, ip): \(output)")
        }
    }

    /// Prefix for a command that must run inside the namespace.
    public var launcher: [String] {
        ["/usr/bin/nsenter", "--target", String(holder.pid)] + (privateNetwork ? ["--net"] : []) + ["--mount"]
    }

    /// Starts `executable` inside the namespace.
    public func start(_ executable: String, _ arguments: [String], log: String) throws -> ChildProcess {
        try ChildProcess(
            launcher[0], Array(launcher.dropFirst()) + [executable] + arguments,
            logPath: directory.appendingPathComponent(log).path)
    }

    /// Runs `executable` inside the namespace to its end (bounded by `timeout` seconds): exit status and output.
    public func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> (status: Int32?, output: String) {
        let process = try start(executable, arguments, log: "run-\(UUID().uuidString.prefix(8)).log")
        let status = process.waitForExit(timeout: timeout)
        if status == nil { process.stop(grace: 0) }
        return (status, process.log)
    }

    /// A recorder (Tests/Helpers/loopback_recorder.py) inside the namespace; returns once it listens.
    public func recorder(tcp: [String] = [], dns: [String] = []) throws -> ChildProcess {
        try Self.startRecorder(
            tcp: tcp, dns: dns, launcher: launcher,
            log: directory.appendingPathComponent("recorder-\(UUID().uuidString.prefix(8)).log").path)
    }

    /// A recorder (Tests/Helpers/loopback_recorder.py) in the test's own namespace, on loopback.
    public static func loopbackRecorder(tcp: [String] = [], dns: [String] = []) throws -> ChildProcess {
        try startRecorder(
            tcp: tcp, dns: dns, launcher: [],
            log: FileManager.default.temporaryDirectory.appendingPathComponent("recorder-\(UUID().uuidString.prefix(8)).log").path)
    }

    private static func startRecorder(tcp: [String], dns: [String], launcher: [String], log: String) throws -> ChildProcess {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers/loopback_recorder.py").path
        var arguments = [script]
        if !tcp.isEmpty { arguments += ["--tcp"] + tcp }
        if !dns.isEmpty { arguments += ["--dns"] + dns }
        let command = launcher + ["/usr/bin/python3"] + arguments
        let process = try ChildProcess(command[0], Array(command.dropFirst()), logPath: log)
        for _ in 0..<200 where process.isRunning && !process.log.contains("ready") { usleep(25_000) }
        guard process.isRunning else { throw ChildProcessError("recorder did not start: \(process.log)") }
        return process
    }

    public func stop() {
        holder.stop(grace: 0)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
