import Foundation
import TestSupport
import Testing

@testable import DKIM

/// Signing for draft-01 receivers (DAViCal 1.1): what its verifier checks, rebuilt here from its
/// rules (`inc/iSchedule.php`: `q` exactly `dns/txt`, `host` among the signed headers, each signed
/// header rebuilt as `<name as in h=>: <value>` CRLF, then `DKIM-Signature: <value, b= emptied>`,
/// the body hashed as sent). The real DAViCal accepting it is DAViCalInteropTests.
@Suite struct Draft01SigningTests {
    static let body = Array("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".utf8)

    static func request(host: Bool = true, body: [UInt8] = body) -> HTTPRequestMessage {
        HTTPRequestMessage(
            method: "POST", target: "/.well-known/ischedule",
            headers: (host ? [HeaderField(name: "Host", value: "isched.gamma.test:8444")] : []) + [
                HeaderField(name: "Originator", value: "mailto:bob@beta.test"),
                HeaderField(name: "Recipient", value: "mailto:dave@gamma.test,mailto:erin@gamma.test"),
                HeaderField(name: "Content-Type", value: "text/calendar; component=VEVENT; method=REQUEST")
            ], body: body)
    }

    static func signer() throws -> DKIMSigner {
        try DKIMSigner(
            privateKey: RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem")), domain: "beta.test",
            selector: "gw", queryMethods: [.httpWellKnown, .dnsTXT])
    }

    @Test func draft01SignatureIsWhatDAViCalChecks() throws {
        var request = Self.request()
        let signature = try Self.signer().sign(&request, now: 1_000, messageID: "m-1", dialect: .draft01)
        let tags = try DKIMSignature(parsing: signature.headerValue)
        #expect(tags.signedHeaders.first == "Host")
        #expect(tags.signedHeaders.map { $0.lowercased() }.contains("originator"))
        #expect(tags.tags.tag("q")?.value == "dns/txt")
        #expect(tags.tags.tag("c")?.value == "simple-http/simple")
        // DAViCal splits the tag list at ";" followed by a blank and finds b= after a space.
        #expect(signature.headerValue.contains("; b="))
        // Its rebuild of the signed text, from the headers as sent.
        var rebuilt = ""
        for name in tags.signedHeaders {
            rebuilt += "\(name): \(request.headers.values(named: name).joined(separator: ", "))\r\n"
        }
        let value = try #require(request.headers.values(named: "DKIM-Signature").first)
        rebuilt += "DKIM-Signature: " + value.replacingOccurrences(of: #" b=[^;\s]+"#, with: " b=", options: .regularExpression)
        #expect(Array(rebuilt.utf8) == signature.signedText)
        #expect(tags.tags.tag("bh")?.value == base64(HashAlgorithm.sha256.digest(Self.body)))
        let publicKey = try KeyRecord(parsing: "v=DKIM1; k=rsa; p=\(Fixtures.publicKeyBase64())").publicKey()
        let value64 = try #require(request.headers.values(named: "DKIM-Signature").first?.components(separatedBy: " b=").last)
        #expect(publicKey.isValidSignature(Array(Data(base64Encoded: value64) ?? Data()), for: Array(rebuilt.utf8), hash: .sha256))
    }

    @Test func draft01SignatureVerifiesUnderTheLegacyPolicyOnly() async throws {
        var request = Self.request()
        try Self.signer().sign(&request, now: 1_000, messageID: "m-1", dialect: .draft01)
        let keys = KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: ["v=DKIM1; k=rsa; s=*; p=\(try Fixtures.publicKeyBase64())"])])
        _ = try await DKIMVerifier(keys: keys, policy: .legacyInterop, clock: FixedUnixClock(1_000)).verify(headers: request.headers, body: Self.body)
        await #expect(throws: DKIMFailure.self) {
            try await DKIMVerifier(keys: keys, policy: .iSchedule, clock: FixedUnixClock(1_000)).verify(headers: request.headers, body: Self.body)
        }
    }

    @Test func draft01NeedsTheHostHeaderAndABodyAsHashed() throws {
        var withoutHost = Self.request(host: false)
        #expect(throws: SigningError.missingHeader("Host")) { try Self.signer().sign(&withoutHost, now: 1_000, dialect: .draft01) }
        var trailing = Self.request(body: Self.body + [0x0D, 0x0A])
        #expect(throws: SigningError.bodyNotCanonical) { try Self.signer().sign(&trailing, now: 1_000, dialect: .draft01) }
        var unterminated = Self.request(body: Array(Self.body.dropLast(2)))
        #expect(throws: SigningError.bodyNotCanonical) { try Self.signer().sign(&unterminated, now: 1_000, dialect: .draft01) }
        // Draft-05 keeps its form: no Host, every query method, ischedule-relaxed.
        var modern = Self.request()
        let tags = try DKIMSignature(parsing: try Self.signer().sign(&modern, now: 1_000).headerValue)
        #expect(!tags.signedHeaders.contains("Host") && tags.tags.tag("q")?.value == "http/well-known:dns/txt")
        #expect(tags.tags.tag("c")?.value == "ischedule-relaxed/simple")
    }

    @Test func keyRecordForDraft01PeersIsAcceptedByBothKinds() throws {
        let key = try KeyRecord(parsing: "v=DKIM1; k=rsa; p=\(Fixtures.publicKeyBase64())").publicKey()
        let record = KeyRecord.text(for: key, forDraft01Peers: true)
        #expect(record.hasPrefix("v=DKIM1; k=rsa; s=*; p="))
        #expect(KeyRecord.text(for: key).contains("s=ischedule;"))
        // Our verifier (draft-05 rules: s= absent, * or ischedule) accepts it, and it is the same key.
        let parsed = try KeyRecord(parsing: record)
        #expect(parsed.rejection(for: .sha256) == nil)
        #expect(try parsed.publicKey().subjectPublicKeyInfo == key.subjectPublicKeyInfo)
    }
}
