public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server (Debian's package) started by a test: `initdb` in a new temporary
/// directory, listening on 127.0.0.1 at a port chosen at run time, its socket in that directory,
/// stopped by its PID. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
/// user the package creates (`setpriv` execs it in place: the PID is the server's own).
public final class TestPostgresServer: @unchecked Sendable {
    public let port: UInt16
    public let directory: String
    /// The superuser of the new cluster (trust authentication, loopback only).
    public let user = "gateway"
    private let process: ChildProcess
    private static let binDirectory: String? = {
        let roots = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return roots.compactMap(Int.init).sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
    }()

    /// One server for every test of this process that only needs a database of its own (each
    /// `createDatabase()` is new and empty): one `initdb` instead of one per test. Stopped when the
    /// process exits.
    public static func shared() throws -> TestPostgresServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try TestPostgresServer()
            server = started
            atexit { TestPostgresServer.sharedServer.withLock { $0?.stop() } }
            return started
        }
    }

    private static let sharedServer = Mutex<TestPostgresServer?>(nil)

    /// Whether Debian's PostgreSQL server is installed (deploy/install-deps.sh installs it).
    public static var isInstalled: Bool { binDirectory.map { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") } ?? false }

    /// - Parameters:
    ///   - tls: a certificate chain and key (PEM) to serve TLS with (`ssl=on`).
    ///   - password: when given, TCP connections must authenticate with it (SCRAM-SHA-256); the
    ///     Unix socket stays trusted.
    public init(tls: (certificate: String, key: String)? = nil, password: String? = nil) throws {
        try Prerequisites.require(Prerequisites.postgresql, for: "PostgreSQL")
        guard let bin = Self.binDirectory else { throw ChildProcessError("PostgreSQL is not installed (run deploy/install-deps.sh)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options: [String] = []
        if let tls {
            // The server reads its key only when the key is its own and private.
            try FileManager.default.copyItem(atPath: tls.certificate, toPath: directory + "/server.pem")
            try FileManager.default.copyItem(atPath: tls.key, toPath: directory + "/server.key")
            chmod(directory + "/server.key", 0o600)
            options = ["-c", "ssl=on", "-c", "ssl_cert_file=\(directory)/server.pem", "-c", "ssl_key_file=\(directory)/server.key"]
        }
        var authentication = ["--auth=trust"]
        if let password {
            try (password + "\n").write(toFile: directory + "/pwfile", atomically: true, encoding: .utf8)
            authentication = ["--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(directory)/pwfile"]
        }
        let asUser = Self.dropRoot(owning: directory, files: ["server.pem", "server.key", "pwfile"])
        let data = directory + "/data"
        try runToEnd(
            asUser.executable,
            asUser.prefix + ["\(bin)/initdb", "-D", data, "-U", user] + authentication + [
                "-E", "UTF8",
                "--no-sync", "--no-instructions"
            ], log: directory + "/initdb.log")
        port = freeLoopbackPort()
        process = try ChildProcess(
            asUser.executable,
            asUser.prefix + [
                "\(bin)/postgres", "-D", data, "-p", String(port), "-k", directory, "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=200", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning"
            ] + options, logPath: directory + "/postgres.log")
        for _ in 0..<200 {
            if (try? runToEnd("\(bin)/pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port)], log: directory + "/isready.log")) != nil {
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        process.stop()
        throw ChildProcessError("PostgreSQL did not start on 127.0.0.1:\(port): \(process.log.suffix(2_000))")
    }

    /// A new, empty database; its URL for the gateway's `store:`.
    public func createDatabase(_ name: String = "g\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        _ = try psql("CREATE DATABASE \(name)", database: "postgres")
        return url(database: name)
    }

    public func url(database: String) -> String { "postgresql://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs SQL with psql; its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String, database: String) throws -> String {
        guard let bin = Self.binDirectory else { throw ChildProcessError("PostgreSQL is not installed") }
        let log = directory + "/psql-\(UUID().uuidString.prefix(6)).out"
        try runToEnd(
            "\(bin)/psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", String(port), "-U", user,
                "-d", database, "-c", sql
            ], log: log)
        defer { unlink(log) }
        return (try? String(contentsOfFile: log, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    public var log: String { process.log }
    public var isRunning: Bool { process.isRunning }

    /// Stops the server (SIGINT: PostgreSQL's fast shutdown, which ends open sessions; SIGKILL
    /// after 10 s) and removes its files.
    public func stop() {
        process.send(SIGINT)
        _ = process.waitForExit(timeout: 10)
        process.stop(grace: 1)
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// How to run a program as a user PostgreSQL accepts: as is, or as `postgres` when we are root.
    private static func dropRoot(owning directory: String, files: [String]) -> (executable: String, prefix: [String]) {
        guard getuid() == 0, let account = getpwnam("postgres") else { return ("/usr/bin/env", []) }
        for path in [directory] + files.map({ "\(directory)/\($0)" }) { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
        return ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"])
    }
}
