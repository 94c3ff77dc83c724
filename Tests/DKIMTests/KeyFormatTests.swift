import Foundation
import Testing
import TestSupport
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
        let encrypted = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIc3FJ6xZUbYECAggA
        MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBC2zv3vAi3+tYvE0d0oNZRVBIIB
        -----END ENCRYPTED PRIVATE KEY-----
        """
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: encrypted) }
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
