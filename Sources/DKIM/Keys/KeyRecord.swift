internal import Foundation

/// A DKIM key record (RFC 6376 §3.6.1) as published in DNS, at the well-known URI or in a
/// private-exchange file: `v=DKIM1; k=rsa; h=sha256; s=ischedule; p=<base64 SPKI>`.
package struct KeyRecord: Sendable, Equatable {
    package let tags: TagList

    package init(parsing text: String) throws(TagListError) {
        tags = try TagList(parsing: text)
    }

    /// The `p=` value with folding whitespace removed; empty means revoked.
    package var publicKeyBase64: String {
        ASCII.removingWhitespace(tags["p"] ?? "")
    }

    /// `t=y`: the domain is testing DKIM (RFC 6376 §3.6.1); its signatures prove nothing yet.
    package var isTesting: Bool {
        guard let flags = tags["t"] else { return false }
        return Self.list(flags).contains("y")
    }

    /// Why this record cannot verify a signature hashed with `hash`; nil when it can.
    /// Rules: `v` absent or DKIM1, `k` absent or rsa, `h` absent or listing the hash, `s` absent
    /// or listing `*` or `ischedule`, `p` present and non-empty.
    package func rejection(for hash: HashAlgorithm) -> KeyRecordRejection? {
        if let version = tags["v"], version != "DKIM1" { return .version(version) }
        if let type = tags["k"], type.lowercased() != "rsa" { return .keyType(type) }
        if let hashes = tags["h"] {
            let names = Self.list(hashes)
            if !names.contains(hash.rawValue) { return .hashNotAllowed(hashes) }
        }
        if let services = tags["s"] {
            let names = Self.list(services)
            if !names.contains("*") && !names.contains("ischedule") { return .serviceType(services) }
        }
        guard let key = tags["p"] else { return .missingPublicKey }
        if key.utf8.allSatisfy(ASCII.isWhitespace) { return .revoked }
        return nil
    }

    /// The RSA key in `p=`.
    package func publicKey() throws(KeyRecordRejection) -> RSAPublicKey {
        guard let der = Data(base64Encoded: publicKeyBase64) else { throw .malformedKey("p= is not base64") }
        do { return try RSAPublicKey(subjectPublicKeyInfo: Array(der)) } catch { throw .malformedKey(error.description) }
    }

    private static func list(_ value: String) -> [String] {
        value.split(separator: ":").map { ASCII.trimmingWhitespace($0).lowercased() }
    }

    /// The record this project publishes for `key`. `forDraft01Peers` writes `s=*` instead of
    /// `s=ischedule`: DAViCal's verifier accepts only `*` or `calendar` there, Apple's only `*` or
    /// `ischedule`, so `*` is the one both accept.
    package static func text(for key: RSAPublicKey, forDraft01Peers: Bool = false) -> String {
        "v=DKIM1; k=rsa; s=\(forDraft01Peers ? "*" : "ischedule"); p=\(Data(key.subjectPublicKeyInfo).base64EncodedString())"
    }
}

/// Why a key record was passed over.
package enum KeyRecordRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case version(String)
    case keyType(String)
    case hashNotAllowed(String)
    case serviceType(String)
    case missingPublicKey
    case revoked
    case malformedKey(String)

    package var description: String {
        switch self {
        case .malformed(let reason): "malformed record (\(reason))"
        case .version(let value): "v=\(value) is not DKIM1"
        case .keyType(let value): "k=\(value) is not rsa"
        case .hashNotAllowed(let value): "h=\(value) does not allow the signature's hash"
        case .serviceType(let value): "s=\(value) is not ischedule or *"
        case .missingPublicKey: "no p= tag"
        case .revoked: "revoked (empty p=)"
        case .malformedKey(let reason): "p= is not an RSA SubjectPublicKeyInfo (\(reason))"
        }
    }
}
