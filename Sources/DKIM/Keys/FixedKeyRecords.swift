/// The same records for every `(d, s)`: a key an administrator hands to the verifier directly
/// (the CLI's `--public-key` and `--key-record`).
package struct FixedKeyRecords: KeyRecordSource {
    package let records: [String]
    package init(records: [String]) { self.records = records }
    package func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] { records }
}
