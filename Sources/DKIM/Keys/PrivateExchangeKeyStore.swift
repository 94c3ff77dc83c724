internal import Foundation
import Synchronization

/// `private-exchange` keys: records agreed out of band, kept in a directory as
/// `<dir>/<domain>/<selector>` (one record per line; blank lines and `#` comments ignored).
/// Apple's flat naming `<dir>/<domain>#<selector>` is read too, for migrated installations.
/// Domain and selector are lower-cased; their syntax was checked, so they cannot leave `dir`.
///
/// A file's records are kept after the first read and used while `stat` finds the same file
/// (device, inode, size, modification time): one `stat` per lookup instead of a read, and a
/// replaced or edited file is read again at once. A file modified in the last two seconds is not
/// kept (file times can be as coarse as a clock tick, so an edit right after the read could leave
/// them unchanged: git's "racily clean" rule).
package struct PrivateExchangeKeyStore: KeyRecordSource {
    package let directory: String
    private let cache = Cache()

    package init(directory: String) {
        self.directory = directory
    }

    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        guard DNSName.isValidDomain(domain), DNSName.isValidSelector(selector) else { return [] }
        let d = domain.lowercased()
        let s = selector.lowercased()
        for path in ["\(directory)/\(d)/\(s)", "\(directory)/\(d)#\(s)"] {
            guard let identity = FileIdentity(path: path) else { continue }
            if let records = cache.records(path: path, identity: identity) { return records }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyLookupError(reason: "cannot read \(path)", isTemporary: true)
            }
            let records = Self.records(in: String(decoding: data, as: UTF8.self))
            // Kept under the identity seen before the read: a write in between is read again next time.
            if identity.seconds + 2 <= Int(time(nil)) { cache.keep(records, path: path, identity: identity) }
            return records
        }
        return []
    }

    /// Records in a key file: one per line, blank lines and `#` comments skipped.
    package static func records(in text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { String(ASCII.trimmingWhitespace($0)) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// What `stat` says about a regular file; nil when there is none at the path.
    private struct FileIdentity: Equatable {
        let device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            seconds = info.st_mtim.tv_sec
            nanoseconds = info.st_mtim.tv_nsec
        }
    }

    /// Path → records and the identity they were read under; bounded (cleared when full).
    private final class Cache: Sendable {
        private let entries = Mutex<[String: (identity: FileIdentity, records: [String])]>([:])

        func records(path: String, identity: FileIdentity) -> [String]? {
            entries.withLock { entries in entries[path].flatMap { $0.identity == identity ? $0.records : nil } }
        }

        func keep(_ records: [String], path: String, identity: FileIdentity) {
            entries.withLock { entries in
                if entries.count >= 1_024 { entries.removeAll(keepingCapacity: true) }
                entries[path] = (identity, records)
            }
        }
    }
}
