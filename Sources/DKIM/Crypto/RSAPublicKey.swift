internal import COpenSSL
import Foundation

/// An RSA public key held by OpenSSL; immutable and safe to share between threads.
package final class RSAPublicKey: @unchecked Sendable {
    let key: OpaquePointer
    /// Modulus size in bits.
    package let bits: Int
    /// Verify contexts set up once per hash (padding and digest chosen); each verification works
    /// on a duplicate, which costs a fraction of a fresh context in OpenSSL 3.
    private let verifyTemplates: [HashAlgorithm: OpaquePointer]

    init(taking key: OpaquePointer) throws(CryptoError) {
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError(message: "the key is not an RSA key")
        }
        var templates: [HashAlgorithm: OpaquePointer] = [:]
        for hash in HashAlgorithm.allCases {
            guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { continue }
            if EVP_PKEY_verify_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
                EVP_PKEY_CTX_set_signature_md(context, hash.messageDigest) == 1
            {
                templates[hash] = context
            } else {
                EVP_PKEY_CTX_free(context)
                ERR_clear_error()
            }
        }
        self.key = key
        self.bits = Int(EVP_PKEY_get_bits(key))
        self.verifyTemplates = templates
    }

    /// Reads a DER SubjectPublicKeyInfo (the bytes of a DKIM `p=` value).
    package convenience init(subjectPublicKeyInfo der: [UInt8]) throws(CryptoError) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw CryptoError("not a DER SubjectPublicKeyInfo") }
        try self.init(taking: parsed)
    }

    /// Reads a `-----BEGIN PUBLIC KEY-----` (SPKI) PEM document.
    package convenience init(pem: String) throws(CryptoError) {
        let parsed = MemoryBIO.withReadable(Array(pem.utf8)) { ischedule_read_public_key($0) }
        guard let parsed else { throw CryptoError("not a PEM public key (expected BEGIN PUBLIC KEY)") }
        try self.init(taking: parsed)
    }

    deinit {
        for context in verifyTemplates.values { EVP_PKEY_CTX_free(context) }
        EVP_PKEY_free(key)
    }

    /// The DER SubjectPublicKeyInfo, as published base64-encoded in `p=`.
    package var subjectPublicKeyInfo: [UInt8] { Self.subjectPublicKeyInfo(of: key) }

    static func subjectPublicKeyInfo(of key: OpaquePointer) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &output)
        guard length > 0, let output else { return [] }
        defer { ischedule_OPENSSL_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    /// The SPKI PEM text (`BEGIN PUBLIC KEY`).
    package var pem: String {
        MemoryBIO.writing { PEM_write_bio_PUBKEY($0, key) == 1 }
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over an already computed `digest`.
    package func isValidSignature(_ signature: [UInt8], digest: [UInt8], hash: HashAlgorithm) -> Bool {
        guard let template = verifyTemplates[hash], let context = EVP_PKEY_CTX_dup(template) else {
            ERR_clear_error()
            return false
        }
        defer { EVP_PKEY_CTX_free(context) }
        let result = EVP_PKEY_verify(context, signature, signature.count, digest, digest.count)
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over `message`.
    package func isValidSignature(
        _ signature: [UInt8], for message: some Collection<UInt8>,
        hash: HashAlgorithm
    ) -> Bool {
        isValidSignature(signature, digest: hash.digest(message), hash: hash)
    }
}
