import Foundation
import TestSupport
import Testing

@testable import DKIM

/// §13 checks 28, 29 and 37: the derived vectors sign to the listed bh/b and verify at the stated clocks.
@Suite struct SigningVectorTests {
    static let labels = ["A", "B"]

    struct Vector {
        let headers: [HeaderField]
        let signatureValue: String
        let bh: String
        let b: String
        let signedString: String
        let algorithm: SigningAlgorithm
        let rawFile: String
    }

    static func vector(_ label: String) throws -> Vector {
        let json = try Fixtures.json("derived-ischedule-signing-vectors.json")
        let item = (json["vectors"] as! [[String: Any]]).first { $0["label"] as! String == label }!
        let pairs = (item["headers_in_order"] as! [[String]]).map { HeaderField(name: $0[0], value: $0[1]) }
        return Vector(
            headers: pairs.filter { !$0.hasName("DKIM-Signature") },
            signatureValue: item["dkim_signature_value"] as! String, bh: item["bh"] as! String,
            b: item["b"] as! String, signedString: item["signed_string"] as! String,
            algorithm: SigningAlgorithm(rawValue: item["algorithm"] as! String)!,
            rawFile: item["raw_request_file"] as! String)
    }

    static func body() throws -> [UInt8] {
        Array((try Fixtures.json("derived-ischedule-signing-vectors.json")["body"] as! String).utf8)
    }

    static func signer(_ algorithm: SigningAlgorithm, methods: [KeyQueryMethod]) throws -> DKIMSigner {
        let key = try RSAPrivateKey(pem: Fixtures.text("apple-test_dkim-rsa2048-private.pem"))
        return try DKIMSigner(
            privateKey: key, domain: "example.com", selector: "ischedule", algorithm: algorithm,
            queryMethods: methods, lifetime: 3600)
    }

    @Test(arguments: labels) func signsToTheListedBodyHashAndSignature(label: String) throws {
        let vector = try Self.vector(label)
        let methods = label == "A" ? [KeyQueryMethod.privateExchange, .httpWellKnown, .dnsTXT] : [.dnsTXT]
        var request = HTTPRequestMessage(headers: vector.headers, body: try Self.body())
        let result = try Self.signer(vector.algorithm, methods: methods).sign(&request, now: 1_700_000_000)
        #expect(result.headerValue == vector.signatureValue)
        #expect(result.headerValue.contains("bh=\(vector.bh);"))
        #expect(result.headerValue.hasSuffix("b=\(vector.b)"))
        #expect(String(decoding: result.signedText, as: UTF8.self) == vector.signedString)
        #expect(request.headers.last?.name == "DKIM-Signature")
        #expect(request.headers.count(named: "DKIM-Signature") == 1)
    }

    static func verifier(at time: Int64) throws -> DKIMVerifier {
        let record = "v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"
        let keys = KeyLocator(sources: [
            .dnsTXT: FixedKeyRecords(records: [record]),
            .privateExchange: FixedKeyRecords(records: [record])
        ])
        // Vector B is rsa-sha1, which the default policy refuses (RFC 8301); these tests are about the vectors.
        var policy = VerificationPolicy.iSchedule
        policy.acceptedAlgorithms.insert(.rsaSHA1)
        return DKIMVerifier(keys: keys, policy: policy, clock: FixedUnixClock(time))
    }

    static func rawRequest(_ label: String) throws -> HTTPRequestMessage {
        try HTTPRequestMessage(parsing: Fixtures.bytes(try vector(label).rawFile))
    }

    @Test(arguments: labels) func rawRequestVerifiesAtTheStatedClock(label: String) async throws {
        let verified = try await Self.verifier(at: 1_700_000_100).verify(try Self.rawRequest(label))
        #expect(verified.domain == "example.com")
        #expect(verified.selector == "ischedule")
        #expect(verified.algorithm == (label == "A" ? .rsaSHA256 : .rsaSHA1))
        #expect(verified.keyBits == 2048)
    }

    @Test func rsaSHA1IsRefusedByTheDefaultPolicy() async throws {
        let record = "v=DKIM1; k=rsa; p=\(try Fixtures.publicKeyBase64())"
        let verifier = DKIMVerifier(
            keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [record])]), policy: .iSchedule,
            clock: FixedUnixClock(1_700_000_100))
        await #expect(throws: DKIMFailure.algorithmNotAccepted(.rsaSHA1)) { try await verifier.verify(try Self.rawRequest("B")) }
        #expect(try await verifier.verify(try Self.rawRequest("A")).algorithm == .rsaSHA256)
    }

    @Test func aTestingKeyIsReported() async throws {
        let verified = try await DKIMVerifier(
            keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: ["v=DKIM1; k=rsa; t=y; p=\(try Fixtures.publicKeyBase64())"])]),
            clock: FixedUnixClock(1_700_000_100)
        ).verify(try Self.rawRequest("A"))
        #expect(verified.keyIsTesting)
        #expect(try await Self.verifier(at: 1_700_000_100).verify(try Self.rawRequest("A")).keyIsTesting == false)
    }

    @Test(arguments: labels) func rawRequestIsExpiredOneSecondAfterX(label: String) async throws {
        await #expect(throws: DKIMFailure.expired(x: 1_700_003_600, now: 1_700_003_601)) {
            try await Self.verifier(at: 1_700_003_601).verify(try Self.rawRequest(label))
        }
    }

    @Test(arguments: labels) func rawRequestIsRejectedWhenTIsTooFarInTheFuture(label: String) async throws {
        await #expect(throws: DKIMFailure.timestampInFuture(t: 1_700_000_000, now: 1_699_999_000, allowedSkew: 360)) {
            try await Self.verifier(at: 1_699_999_000).verify(try Self.rawRequest(label))
        }
    }

    @Test func outgoingSignatureFollowsCheck37() throws {
        var request = HTTPRequestMessage(
            headers: [
                HeaderField(name: "Host", value: "cal.example.org"),
                HeaderField(name: "Originator", value: "mailto:alice@example.com"),
                HeaderField(name: "Recipient", value: "mailto:bob@example.org"),
                HeaderField(name: "Authorization", value: "Basic dXNlcjpwdw=="),
                HeaderField(name: "Content-Type", value: "text/calendar; component=VEVENT; method=REQUEST"),
                HeaderField(name: "User-Agent", value: "ischedule-gateway"),
                HeaderField(name: "Content-Length", value: "516"),
                HeaderField(name: "Cache-Control", value: "no-cache")
            ], body: try Self.body())
        let value = try Self.signer(.rsaSHA256, methods: [.dnsTXT, .httpWellKnown]).sign(&request, now: 100).headerValue
        let signature = try DKIMSignature(parsing: value)
        #expect(value.hasPrefix("v=1; "))
        #expect(!value.contains("\r") && !value.contains("\n"))
        #expect(signature.algorithm == .rsaSHA256)
        #expect(signature.canonicalization == .iSchedule)
        #expect(signature.queryMethods == [.dnsTXT, .httpWellKnown])
        #expect(signature.timestamp == 100 && signature.expiration == 3700)
        #expect(
            signature.signedHeaders == [
                "Originator", "Recipient", "Authorization", "Content-Type", "User-Agent",
                "iSchedule-Version", "iSchedule-Message-ID"
            ])
        #expect(request.headers.values(named: "iSchedule-Version") == ["1.0"])
        #expect(request.headers.values(named: "iSchedule-Message-ID").first?.count == 36)
        #expect(request.headers.values(named: "Cache-Control") == ["no-cache"])
    }

    @Test func eachSigningGetsAFreshMessageID() throws {
        let signer = try Self.signer(.rsaSHA256, methods: [.dnsTXT])
        let base = HTTPRequestMessage(
            headers: try Self.vector("A").headers.filter { !$0.hasName("iSchedule-Message-ID") },
            body: try Self.body())
        var first = base
        var second = base
        try signer.sign(&first, now: 1)
        try signer.sign(&second, now: 1)
        #expect(first.headers.values(named: "iSchedule-Message-ID") != second.headers.values(named: "iSchedule-Message-ID"))
    }

    @Test func signingRequiresTheISchedulHeaders() throws {
        var request = HTTPRequestMessage(headers: [HeaderField(name: "Originator", value: "mailto:a@example.com")], body: [])
        #expect(throws: SigningError.missingHeader("Recipient")) {
            try Self.signer(.rsaSHA256, methods: [.dnsTXT]).sign(&request, now: 1)
        }
    }
}
