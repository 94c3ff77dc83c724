internal import Foundation

/// Whether the TXT records at a key's DNS name publish that key acceptably for iSchedule
/// verifiers (v=DKIM1 or absent, k=rsa, h= allowing sha256, s= ischedule or *).
package enum PublishedKey {
    package enum Verdict: Sendable, Equatable {
        /// A record carries the key; its size in bits when readable.
        case published(bits: Int?)
        /// Why none does: one finding per record, or that there is none.
        case notPublished(String)
    }

    package static func judge(_ records: [String], for key: RSAPublicKey) -> Verdict {
        let expected = Data(key.subjectPublicKeyInfo).base64EncodedString()
        var findings: [String] = []
        for text in records {
            let record: KeyRecord
            do { record = try KeyRecord(parsing: text) } catch {
                findings.append("malformed record (\(error)): \(text)")
                continue
            }
            guard record.publicKeyBase64 == expected else {
                findings.append(record.publicKeyBase64.isEmpty ? "revoked record (empty p=)" : "a record for a different key")
                continue
            }
            if let rejection = record.rejection(for: .sha256) {
                findings.append("this key, but not acceptable: \(rejection)")
                continue
            }
            return .published(bits: try? record.publicKey().bits)
        }
        return .notPublished(records.isEmpty ? "no TXT record" : "\(records.count) TXT record(s): \(findings.joined(separator: "; "))")
    }
}
