import Foundation
import TestSupport
import Testing

@testable import DKIM

/// Verifier rules beyond the vectors: must-sign coverage, l=, signature count, old dialects, key sizes.
@Suite struct VerifierBehaviourTests {
    static let body = Array("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".utf8)

    static func headers() -> [HeaderField] {
        [
            HeaderField(name: "Host", value: "isched.example.org"),
            HeaderField(name: "iSchedule-Version", value: "1.0"),
            HeaderField(name: "Originator", value: "mailto:dave@example.com"),
            HeaderField(name: "Recipient", value: "mailto:zed@example.org"),
            HeaderField(name: "Content-Type", value: "text/calendar; component=VEVENT; method=REQUEST")
        ]
    }

    static func key() throws -> RSAPrivateKey {
        try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
    }

    /// Signs like a foreign implementation would: the signing input is assembled here by hand.
    static func handSigned(tags: String, signingInput: (String) -> String, headers: [HeaderField] = headers()) throws -> [HeaderField] {
        let unsigned = tags + "; b="
        let text = Array(signingInput(unsigned).utf8)
        let signature = try key().signature(for: text, hash: .sha256)
        return headers + [HeaderField(name: "DKIM-Signature", value: unsigned + base64(signature))]
    }

    static func verifier(policy: VerificationPolicy, records: [String]? = nil) throws -> DKIMVerifier {
        let keyRecords = try records ?? ["v=DKIM1; k=rsa; p=\(Fixtures.publicKeyBase64())"]
        return DKIMVerifier(
            keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: keyRecords)]),
            policy: policy, clock: FixedUnixClock(1_000))
    }

    var bh: String { base64(HashAlgorithm.sha256.digest(Self.body)) }

    @Test func davicalSimpleHTTPSignatureVerifiesUnderTheLegacyPolicyOnly() async throws {
        let tags =
            "v=1; a=rsa-sha256; s=cal; d=gamma.test; c=simple-http; q=dns/txt; l=\(Self.body.count); t=900; "
            + "h=iSchedule-Version:Originator:Recipient:Content-Type; bh=\(bh)"
        let headers = try Self.handSigned(tags: tags) { unsigned in
            "iSchedule-Version: 1.0\r\nOriginator: mailto:dave@example.com\r\nRecipient: mailto:zed@example.org\r\n"
                + "Content-Type: text/calendar; component=VEVENT; method=REQUEST\r\nDKIM-Signature: \(unsigned)"
        }
        let verified = try await Self.verifier(policy: .legacyInterop).verify(headers: headers, body: Self.body)
        #expect(verified.canonicalization.header == .simpleHTTP)
        await #expect(throws: DKIMFailure.canonicalizationNotAccepted(Canonicalization(header: .simpleHTTP, body: .simple))) {
            try await Self.verifier(policy: .iSchedule).verify(headers: headers, body: Self.body)
        }
    }

    @Test func rfcRelaxedSignatureVerifiesUnderTheLegacyPolicy() async throws {
        let tags =
            "v=1; a=rsa-sha256; s=sel; d=example.com; c=relaxed/relaxed; q=dns/txt; t=900; "
            + "h=Originator:Recipient:Content-Type:Recipient; bh=\(base64(HashAlgorithm.sha256.digest(BodyCanonicalizer.canonicalize(Self.body, .relaxed))))"
        let headers = try Self.handSigned(tags: tags) { unsigned in
            "originator:mailto:dave@example.com\r\nrecipient:mailto:zed@example.org\r\n"
                + "content-type:text/calendar; component=VEVENT; method=REQUEST\r\ndkim-signature:\(unsigned)"
        }
        _ = try await Self.verifier(policy: .legacyInterop).verify(headers: headers, body: Self.body)
    }

    @Test func mustSignHeadersAreEnforced() async throws {
        let tags =
            "v=1; a=rsa-sha256; s=sel; d=example.com; c=ischedule-relaxed/simple; q=dns/txt; t=900; "
            + "h=Originator:Recipient:Content-Type:iSchedule-Version; bh=\(bh)"
        let headers = try Self.handSigned(tags: tags) { _ in "irrelevant" }
        await #expect(throws: DKIMFailure.requiredHeaderNotSigned("iSchedule-Message-ID")) {
            try await Self.verifier(policy: .iSchedule).verify(headers: headers, body: Self.body)
        }
    }

    @Test func authorizationMustBeSignedWhenPresent() async throws {
        let tags =
            "v=1; a=rsa-sha256; s=sel; d=example.com; c=ischedule-relaxed/simple; q=dns/txt; t=900; "
            + "h=Originator:Recipient:Content-Type:iSchedule-Version:iSchedule-Message-ID; bh=\(bh)"
        let headers = try Self.handSigned(
            tags: tags, signingInput: { _ in "x" },
            headers: Self.headers() + [HeaderField(name: "Authorization", value: "Basic eDp5")])
        await #expect(throws: DKIMFailure.requiredHeaderNotSigned("Authorization")) {
            try await Self.verifier(policy: .iSchedule).verify(headers: headers, body: Self.body)
        }
    }

    @Test func bodyLengthMustEqualTheCanonicalBody() async throws {
        let tags =
            "v=1; a=rsa-sha256; s=sel; d=example.com; c=simple-http; q=dns/txt; l=10; t=900; "
            + "h=Originator:Recipient:Content-Type; bh=\(bh)"
        let headers = try Self.handSigned(tags: tags) { _ in "x" }
        await #expect(throws: DKIMFailure.bodyLengthMismatch(l: 10, canonicalLength: Self.body.count)) {
            try await Self.verifier(policy: .legacyInterop).verify(headers: headers, body: Self.body)
        }
    }

    @Test func twoSignaturesAreRejected() async throws {
        let headers =
            Self.headers() + [
                HeaderField(name: "DKIM-Signature", value: "v=1"),
                HeaderField(name: "dkim-signature", value: "v=1")
            ]
        await #expect(throws: DKIMFailure.multipleSignatures(count: 2)) {
            try await Self.verifier(policy: .iSchedule).verify(headers: headers, body: Self.body)
        }
    }

    @Test func apple1024BitKeysStillVerify() async throws {
        let key = try RSAPrivateKey(pem: Fixtures.text("apple-conf-dkim-test-rsa1024-private.pem"))
        #expect(key.bits == 1024)
        let signer = try DKIMSigner(privateKey: key, domain: "example.com", selector: "ischedule")
        var request = HTTPRequestMessage(headers: Self.headers(), body: Self.body)
        try signer.sign(&request, now: 1_000)
        let publicPEM = try Fixtures.text("apple-conf-dkim-test-rsa1024-public.pem")
        let record = KeyRecord.text(for: try RSAPublicKey(pem: publicPEM))
        let verified = try await Self.verifier(policy: .iSchedule, records: [record]).verify(request)
        #expect(verified.keyBits == 1024)
        await #expect(throws: DKIMFailure.keyTooSmall(bits: 1024, minimum: 2048)) {
            var strict = VerificationPolicy.iSchedule
            strict.minimumKeyBits = 2048
            return try await Self.verifier(policy: strict, records: [record]).verify(request)
        }
    }

    @Test func wrongKeyGivesSignatureMismatch() async throws {
        let signer = try DKIMSigner(privateKey: Self.key(), domain: "example.com", selector: "ischedule")
        var request = HTTPRequestMessage(headers: Self.headers(), body: Self.body)
        try signer.sign(&request, now: 1_000)
        let other = try RSAPrivateKey(pem: Fixtures.text("apple-conf-dkim-test-s2s-rsa1024-private.pem"))
        await #expect(throws: DKIMFailure.signatureMismatch(domain: "example.com", selector: "ischedule")) {
            try await Self.verifier(policy: .iSchedule, records: [KeyRecord.text(for: other.publicKey)]).verify(request)
        }
    }

    @Test(
        "everyInstanceSigned: under relaxed, a header present more often than h= lists it is refused; listed as often, it verifies; ischedule-relaxed signs every instance merged"
    )
    func everyInstanceSigned() async throws {
        let base = Array(Self.headers().dropFirst())
        let tags = "v=1; a=rsa-sha256; s=s1; d=example.com; c=relaxed/simple; q=dns/txt; t=900; x=1200; h=Originator:Recipient:Content-Type; bh=\(bh)"
        func relaxedInput(_ headers: [HeaderField]) -> (String) -> String {
            { unsigned in
                let signature = try! DKIMSignature(parsing: unsigned)
                return String(decoding: SigningInput.headerText(headers: headers, signature: signature), as: UTF8.self)
            }
        }
        let signed = try Self.handSigned(tags: tags, signingInput: relaxedInput(base), headers: base)
        let verifier = try Self.verifier(policy: .legacyInterop)
        _ = try await verifier.verify(headers: signed, body: Self.body)
        let added = [HeaderField(name: "Recipient", value: "mailto:eve@example.org")] + signed
        await #expect(throws: DKIMFailure.headerInstanceNotSigned(name: "Recipient", present: 2, signed: 1)) {
            try await verifier.verify(headers: added, body: Self.body)
        }
        let originator = [HeaderField(name: "Originator", value: "mailto:ceo@example.com")] + signed
        await #expect(throws: DKIMFailure.headerInstanceNotSigned(name: "Originator", present: 2, signed: 1)) {
            try await verifier.verify(headers: originator, body: Self.body)
        }
        // Listed twice, two Recipient headers verify.
        let twice = [HeaderField(name: "Recipient", value: "mailto:eve@example.org")] + base
        let both = try Self.handSigned(
            tags: tags.replacingOccurrences(of: "Recipient:", with: "Recipient:Recipient:"),
            signingInput: relaxedInput(twice), headers: twice)
        _ = try await verifier.verify(headers: both, body: Self.body)
        // ischedule-relaxed: an added Recipient changes the signed text.
        let signer = try DKIMSigner(privateKey: try Self.key(), domain: "example.com", selector: "s1")
        var request = HTTPRequestMessage(headers: base, body: Self.body)
        try signer.sign(&request, now: 1_000, messageID: "m1")
        await #expect(throws: DKIMFailure.signatureMismatch(domain: "example.com", selector: "s1")) {
            try await Self.verifier(policy: .iSchedule).verify(
                headers: [HeaderField(name: "Recipient", value: "mailto:eve@example.org")]
                    + request.headers, body: Self.body)
        }
    }

    @Test("another base64 spelling of the same signature bytes (unused low bits before '=') is the same signatureValue: one replay key")
    func signatureValueIsCanonical() async throws {
        let signer = try DKIMSigner(privateKey: try Self.key(), domain: "example.com", selector: "s1")
        var request = HTTPRequestMessage(headers: Array(Self.headers().dropFirst()), body: Self.body)
        try signer.sign(&request, now: 1_000, messageID: "m1")
        let verifier = try Self.verifier(policy: .iSchedule)
        let first = try await verifier.verify(headers: request.headers, body: Self.body)
        // A 2048-bit signature is 256 bytes: base64 ends "XY==", where Y's low 4 bits are unused.
        var headers = request.headers
        let field = headers.removeLast()
        let padding = field.value.reversed().prefix { $0 == "=" }.count
        guard padding > 0 else {
            Issue.record("unexpected b= ending: \(field.value.suffix(8))")
            return
        }
        let lastData = field.value.index(field.value.endIndex, offsetBy: -(padding + 1))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let value = alphabet.firstIndex(of: field.value[lastData])!
        let respelled = field.value.replacingCharacters(in: lastData...lastData, with: String(alphabet[value ^ 0x03]))
        headers.append(HeaderField(name: field.name, value: respelled))
        let second = try await verifier.verify(headers: headers, body: Self.body)
        #expect(respelled != field.value && second.signatureValue == first.signatureValue)
    }
}
