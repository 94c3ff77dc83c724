/// The same records for every `(d, s)`: a key an administrator hands to the verifier directly
/// (the CLI's `--public-key` and `--key-record`).
public struct FixedKeyRecords: KeyRecordSource {
    public let records: [String]
    public init(records: [String]) { self.records = records }
    public func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] { records }
}
