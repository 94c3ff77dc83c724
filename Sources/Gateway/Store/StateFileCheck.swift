internal import Foundation
internal import GRDB

/// `--check-config`'s look at the SQLite state file, without creating or changing anything: an
/// existing file must be readable, writable and pass `PRAGMA quick_check` (read-only); a missing
/// one must be creatable (its nearest existing directory writable).
enum StateFileCheck {
    static func problem(_ path: String) -> String? {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else {
            var directory = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            while !manager.fileExists(atPath: directory, isDirectory: &isDirectory) && directory != "/" {
                directory = (directory as NSString).deletingLastPathComponent
            }
            guard isDirectory.boolValue else { return "cannot create \(path): \(directory) is not a directory" }
            return manager.isWritableFile(atPath: directory) ? nil : "cannot create \(path): \(directory) is not writable"
        }
        guard manager.isReadableFile(atPath: path), manager.isWritableFile(atPath: path) else {
            return "\(path) is not readable and writable by this user"
        }
        var configuration = Configuration()
        configuration.readonly = true
        let report: Result<[String], any Error> = Result {
            try DatabaseQueue(path: path, configuration: configuration).read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        }
        switch report {
        case .success(["ok"]): return nil
        case .success(let lines): return "\(path) is corrupt (PRAGMA quick_check: \(lines.prefix(3).joined(separator: "; ")))"
        case .failure(let error): return "cannot read \(path): \(error)"
        }
    }
}
