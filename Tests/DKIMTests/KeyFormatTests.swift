import Foundation
import TestSupport
import Testing

@testable import DKIM

@Suite struct KeyFormatTests {
    @Test func pkcs1AndPkcs8PrivateKeysAreTheSameKey() throws {
        let pkcs1 = try Fixtures.text("apple-test_dkim-rsa2048-private.pem")
        #expect(pkcs1.contains("BEGIN RSA PRIVATE KEY"))
        let key = try RSAPrivateKey(pem: pkcs1)
        #expect(key.pkcs8PEM.contains("BEGIN PRIVATE KEY"))
        let reread = try RSAPrivateKey(pem: key.pkcs8PEM)
        #expect(reread.publicKey.subjectPublicKeyInfo == key.publicKey.subjectPublicKeyInfo)
        #expect(try RSAPrivateKey(pem: key.pkcs1PEM).bits == 2048)
    }

    @Test func spkiPemAndDkimBase64AgreeWithTheVectorKey() throws {
        let key = try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
        let published = try RSAPublicKey(pem: Fixtures.text("apple-test_dkim-rsa2048-public.pem"))
        #expect(published.subjectPublicKeyInfo == key.publicKey.subjectPublicKeyInfo)
        let fromBase64 = try RSAPublicKey(subjectPublicKeyInfo: Array(Data(base64Encoded: Fixtures.publicKeyBase64())!))
        #expect(fromBase64.bits == 2048)
        #expect(KeyRecord.text(for: published) == "v=DKIM1; k=rsa; s=ischedule; p=\(try Fixtures.publicKeyBase64())")
    }

    @Test func garbageIsRefusedWithAReason() {
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
        #expect(throws: CryptoError.self) { try RSAPublicKey(pem: "hello") }
        #expect(throws: CryptoError.self) { try RSAPublicKey(subjectPublicKeyInfo: [0x30, 0x03, 0x02, 0x01, 0x01]) }
    }

    @Test func encryptedKeysFailInsteadOfPrompting() throws {
        // A real passphrase-protected PKCS#8 key made by the openssl CLI: reading it must fail at
        // once with a reason (OpenSSL's default would prompt on a terminal).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
            "-aes-256-cbc", "-pass", "pass:secret"
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pem = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(pem.contains("BEGIN ENCRYPTED PRIVATE KEY"))
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
    }

    @Test func signAndVerifyRoundTripWithAFreshKey() throws {
        let key = try RSAPrivateKey.generate(bits: 2048)
        #expect(key.bits == 2048)
        let message = Array("hello".utf8)
        let signature = try key.signature(for: message, hash: .sha256)
        #expect(key.publicKey.isValidSignature(signature, for: message, hash: .sha256))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("hellO".utf8), hash: .sha256))
        #expect(!key.publicKey.isValidSignature(signature, for: message, hash: .sha1))
    }
}
