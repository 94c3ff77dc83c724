internal import Foundation

/// `private-exchange` keys: records agreed out of band, kept in a directory as
/// `<dir>/<domain>/<selector>` (one record per line; blank lines and `#` comments ignored).
/// Apple's flat naming `<dir>/<domain>#<selector>` is read too, for migrated installations.
/// Domain and selector are lower-cased; their syntax was checked, so they cannot leave `dir`.
public struct PrivateExchangeKeyStore: KeyRecordSource {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
        guard DNSName.isValidDomain(domain), DNSName.isValidSelector(selector) else { return [] }
        let d = domain.lowercased()
        let s = selector.lowercased()
        for path in ["\(directory)/\(d)/\(s)", "\(directory)/\(d)#\(s)"] {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyLookupError(reason: "cannot read \(path)", isTemporary: true)
            }
            return Self.records(in: String(decoding: data, as: UTF8.self))
        }
        return []
    }

    /// Records in a key file: one per line, blank lines and `#` comments skipped.
    public static func records(in text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { String(ASCII.trimmingWhitespace($0)) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
