internal import COpenSSL

/// An RSA private key held by OpenSSL; immutable and safe to share between threads.
package final class RSAPrivateKey: @unchecked Sendable {
    let key: OpaquePointer
    /// Modulus size in bits.
    package let bits: Int

    private init(taking key: OpaquePointer) throws(CryptoError) {
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError(message: "the key is not an RSA key")
        }
        self.key = key
        self.bits = Int(EVP_PKEY_get_bits(key))
    }

    /// Reads a PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM document.
    /// Encrypted keys are refused rather than prompting for a passphrase.
    package convenience init(pem: String) throws(CryptoError) {
        let parsed = MemoryBIO.withReadable(Array(pem.utf8)) { ischedule_read_private_key($0) }
        guard let parsed else {
            throw CryptoError("not an unencrypted PEM private key (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)")
        }
        try self.init(taking: parsed)
    }

    /// Generates a fresh key.
    package static func generate(bits: Int) throws(CryptoError) -> RSAPrivateKey {
        guard bits > 0, bits <= 16384, let key = ischedule_generate_rsa(UInt32(bits)) else {
            throw CryptoError("RSA key generation (\(bits) bits)")
        }
        return try RSAPrivateKey(taking: key)
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// The matching public key.
    package var publicKey: RSAPublicKey {
        // Re-reading our own SPKI cannot fail for a valid RSA key.
        try! RSAPublicKey(subjectPublicKeyInfo: RSAPublicKey.subjectPublicKeyInfo(of: key))
    }

    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), unencrypted.
    package var pkcs8PEM: String {
        MemoryBIO.writing { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) == 1 }
    }

    /// PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), unencrypted, as Apple's dkimtool writes.
    package var pkcs1PEM: String {
        MemoryBIO.writing { PEM_write_bio_PrivateKey_traditional($0, key, nil, nil, 0, nil, nil) == 1 }
    }

    /// RSASSA-PKCS1-v1_5 signature over an already computed `digest`.
    package func signature(digest: [UInt8], hash: HashAlgorithm) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { throw CryptoError("EVP_PKEY_CTX_new") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, hash.messageDigest) == 1
        else { throw CryptoError("RSA sign init") }
        var length = 0
        guard EVP_PKEY_sign(context, nil, &length, digest, digest.count) == 1 else { throw CryptoError("RSA sign size") }
        var output = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(context, &output, &length, digest, digest.count) == 1 else { throw CryptoError("RSA sign") }
        return Array(output.prefix(length))
    }

    /// RSASSA-PKCS1-v1_5 signature over `message`.
    package func signature(for message: some Collection<UInt8>, hash: HashAlgorithm) throws(CryptoError) -> [UInt8] {
        try signature(digest: hash.digest(message), hash: hash)
    }
}
