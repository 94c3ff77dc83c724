internal import Foundation

#if canImport(Glibc)
    internal import Glibc
#endif

/// A SQLite store serves one gateway process: its worker takes back, at start, every lease but its
/// own, so a second `serve` on the same data directory would release the first one's live claims
/// and send their messages twice. `serve` holds an exclusive lock on `<data-directory>/serve.lock`
/// for its lifetime (the kernel drops it when the process ends, however it ends); a second one is
/// refused at start, naming the first one's PID. `imip-intake` and the `queue` commands do not take it.
enum ServeLock {
    /// Takes the lock, or throws naming the key and the holder. The descriptor stays open until exit.
    static func take(dataDirectory: String) throws(ConfigurationError) {
        try? FileManager.default.createDirectory(
            atPath: dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let path = dataDirectory + "/serve.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError(key: "data-directory", problem: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(descriptor)
            throw ConfigurationError(
                key: "data-directory",
                problem: "another gateway (PID \(holder)) serves \(dataDirectory); a SQLite store "
                    + "serves one gateway (several share store: postgresql://…)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }
}
