public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A helper server started by a test (NSD, later TLS and SMTP servers), stopped by its PID.
///
/// Spawned with an empty signal mask and default signal dispositions (threads of the Swift
/// runtime block most signals and a child inherits that mask, so a server started with `Process`
/// would never see the SIGTERM that stops it), in a process group of its own, and with no
/// descriptor beyond stdin/out/err.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String
    private var exited = false
    /// The exit code, or 128 + signal number, once the process has been reaped.
    public private(set) var exitStatus: Int32?

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logPath`.
    public init(_ executable: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // A process group of its own: a server that signals its group when it stops (Cyrus's
        // master does) must not stop another test's servers, started by the same test process.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Nothing else is inherited: Foundation's Process learns that its own children exited when a
        // socket shared with them closes, and a server spawned meanwhile must not hold that socket.
        // (glibc ignores close actions on descriptors that are not open.)
        for descriptor in 3..<min(getdtablesize(), 4_096) { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
    }

    /// Whether the process is still running (reaps it if it has exited).
    public var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { record(status) }
        return !exited
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace` seconds.
    public func stop(grace: Double = 5) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            record(status)
        }
    }

    /// Sends `signal` (SIGTERM, SIGKILL…) to the process.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` seconds for the process to exit; its status, or nil if still running.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(20_000) }
        return exitStatus
    }

    private func record(_ status: Int32) {
        exited = true
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The port of the first complete `ready PORT` line the child printed, waiting up to 5 s;
    /// nil when it exits first or never says so. Only a line ended by its newline counts: a read
    /// can land between Python's writes of "ready " and the number.
    public func announcedPort() -> UInt16? {
        for _ in 0..<200 {
            let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            if let line = lines.first(where: { $0.hasPrefix("ready ") }) { return UInt16(line.dropFirst(6)) }
            guard isRunning else { return nil }
            usleep(25_000)
        }
        return nil
    }

    deinit { stop() }
}

/// Runs a program to its end (bounded: `timeout` seconds), its output in `log`; returns the output,
/// throws with its tail when it fails or hangs.
@discardableResult
public func runToEnd(_ executable: String, _ arguments: [String], log: String, timeout: Double = 60) throws -> String {
    let child = try ChildProcess(executable, arguments, logPath: log)
    guard let status = child.waitForExit(timeout: timeout) else {
        child.stop()
        throw ChildProcessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    guard status == 0 else {
        throw ChildProcessError("\(executable) \(arguments.joined(separator: " ")) exited \(status): \(output.suffix(1_000))")
    }
    return output
}

/// Runs `python3 -c script arguments…` with `input` on its standard input (the script bounds its
/// own network waits); its exit status and standard output.
public func runPython(_ script: String, _ arguments: [String], input: Data) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A port on 127.0.0.1 free for both TCP and UDP a moment ago, chosen at random below the kernel's
/// ephemeral range (32768–60999 on Linux): a port the kernel hands out for port 0 can be taken
/// the next instant as the source port of any outgoing connection (the tests' own PostgreSQL and
/// HTTP clients make many), which once made a gateway's listener fail with "address in use".
public func freeLoopbackPort() -> UInt16 {
    for _ in 0..<200 {
        let candidate = UInt16.random(in: 10_000..<32_000)
        if isFree(candidate, type: Int32(SOCK_STREAM.rawValue)) && isFree(candidate, type: Int32(SOCK_DGRAM.rawValue)) { return candidate }
    }
    return kernelChosenPort()
}

private func isFree(_ port: UInt16, type: Int32) -> Bool {
    let descriptor = socket(AF_INET, type, 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

private func kernelChosenPort() -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port` (bounded: `attempts` × 50 ms).
public func waitForLoopbackListener(port: UInt16, attempts: Int = 100) -> Bool {
    for _ in 0..<attempts {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(descriptor)
        if connected == 0 { return true }
        usleep(50_000)
    }
    return false
}
