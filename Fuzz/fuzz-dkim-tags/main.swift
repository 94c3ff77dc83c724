import DKIM
import FuzzSupport

// DKIM tag lists, DKIM-Signature parsing and key-record rules.
FuzzDriver.run { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    if let signature = try? DKIMSignature(parsing: text) {
        try? signature.check(policy: .legacyInterop, now: 1_700_000_000)
    }
    if let record = try? KeyRecord(parsing: text) {
        _ = record.rejection(for: .sha256)
    }
}
