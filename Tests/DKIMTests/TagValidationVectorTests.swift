import Foundation
import TestSupport
import Testing

@testable import DKIM

/// §13 check 31: Apple's tag-validation rows, plus our stricter rules.
@Suite struct TagValidationVectorTests {
    let now: Int64 = 1_700_000_000

    private func check(_ values: [String], policy: VerificationPolicy = .iSchedule) throws(DKIMFailure) {
        let headers = values.map { HeaderField(name: "DKIM-Signature", value: $0) }
        let field = try DKIMSignature.field(in: headers)
        try DKIMSignature(parsing: field.value).check(policy: policy, now: now)
    }

    @Test func appleRowsAcceptAndRejectAsListed() throws {
        let cases = try Fixtures.json("apple-test_dkim-signature-tag-validation.json")["cases"] as! [[String: Any]]
        #expect(cases.count == 10)
        for (index, item) in cases.enumerated() {
            let values = (item["headers"] as! [String]).map {
                $0.replacingOccurrences(of: "{NOW+30}", with: String(now + 30))
                    .replacingOccurrences(of: "{NOW-30}", with: String(now - 30))
            }
            let valid = item["valid"] as! Bool
            var failure: DKIMFailure?
            // Apple's rules: rsa-sha1 verifies and nothing bounds a signature's lifetime (ours do: below).
            do { try check(values, policy: VerificationPolicy(acceptedAlgorithms: [.rsaSHA256, .rsaSHA1], maximumLifetime: nil)) } catch {
                failure = error
            }
            #expect((failure == nil) == valid, "row \(index): \(item["why"] ?? "valid") → \(failure?.description ?? "accepted")")
        }
    }

    let base = "v=1; d=example.com; s=dkim; t=1700000000; a=rsa-sha256; q=dns/txt; c=ischedule-relaxed/simple; h=Originator:Recipient; bh=abc; b=def"

    @Test func signaturesAreBoundedInTimeAndSHA1IsRefused() throws {
        try check([base])  // t= only: valid for a day after t
        let day: Int64 = 86_400
        #expect(throws: DKIMFailure.expired(x: now - 100, now: now)) {
            try check([base.replacingOccurrences(of: "t=1700000000", with: "t=\(now - day - 100)")])
        }
        #expect(throws: DKIMFailure.lifetimeTooLong(t: now, x: now + day + 1, maximum: day)) {
            try check([base.replacingOccurrences(of: "t=1700000000", with: "t=\(now); x=\(now + day + 1)")])
        }
        #expect(throws: DKIMFailure.lifetimeTooLong(t: now, x: 999_999_999_999, maximum: day)) {
            try check([base.replacingOccurrences(of: "t=1700000000", with: "x=999999999999")])
        }
        #expect(throws: DKIMFailure.notTimeBounded) { try check([base.replacingOccurrences(of: "t=1700000000; ", with: "")]) }
        #expect(throws: DKIMFailure.algorithmNotAccepted(.rsaSHA1)) {
            try check([base.replacingOccurrences(of: "a=rsa-sha256", with: "a=rsa-sha1")])
        }
        try check([base.replacingOccurrences(of: "a=rsa-sha256", with: "a=rsa-sha1")], policy: .legacyInterop)
        let signature = try DKIMSignature(parsing: base)
        #expect(signature.effectiveExpiration(policy: .iSchedule) == now + day)
        #expect(signature.effectiveExpiration(policy: VerificationPolicy(maximumLifetime: nil)) == nil)
    }

    @Test func plainRelaxedIsRejectedByTheISchedulePolicy() {
        #expect(throws: DKIMFailure.canonicalizationNotAccepted(Canonicalization(header: .relaxed, body: .simple))) {
            try check([base.replacingOccurrences(of: "ischedule-relaxed/simple", with: "relaxed/simple")])
        }
    }

    @Test func legacyPolicyAcceptsOldDialects() throws {
        for c in ["relaxed/simple", "simple/simple", "simple-http", "relaxed/relaxed"] {
            try check([base.replacingOccurrences(of: "ischedule-relaxed/simple", with: c)], policy: .legacyInterop)
        }
    }

    @Test func missingCanonicalizationMeansSimpleSimple() throws {
        let signature = try DKIMSignature(parsing: base.replacingOccurrences(of: "c=ischedule-relaxed/simple; ", with: ""))
        #expect(signature.canonicalization == Canonicalization(header: .simple, body: .simple))
    }

    @Test func duplicateTagsAreRejected() {
        #expect(throws: DKIMFailure.malformedSignature(.duplicateTag("s"))) { try check([base + "; s=other"]) }
    }

    @Test func expiryMustFollowTimestamp() {
        #expect(throws: DKIMFailure.expiryNotAfterTimestamp(t: 1_700_000_000, x: 1_700_000_000)) {
            try check([base.replacingOccurrences(of: "t=1700000000;", with: "t=1700000000; x=1700000000;")])
        }
    }

    @Test func unknownQueryMethodIsRejected() {
        #expect(throws: DKIMFailure.unsupportedQueryMethod("dns/srv")) {
            try check([base.replacingOccurrences(of: "q=dns/txt", with: "q=dns/txt:dns/srv")])
        }
    }

    @Test func missingQueryMethodDefaultsToDNS() throws {
        let signature = try DKIMSignature(parsing: base.replacingOccurrences(of: "q=dns/txt; ", with: ""))
        #expect(signature.queryMethods == [.dnsTXT])
    }

    @Test func futureTimestampBeyondSkewIsRejected() {
        #expect(throws: DKIMFailure.timestampInFuture(t: now + 361, now: now, allowedSkew: 360)) {
            try check([base.replacingOccurrences(of: "t=1700000000", with: "t=\(now + 361)")])
        }
        #expect(throws: Never.self) { try check([base.replacingOccurrences(of: "t=1700000000", with: "t=\(now + 360)")]) }
    }

    @Test func pathLikeDomainsAndSelectorsAreRejected() {
        for (tag, value) in [("d", "../etc"), ("d", "a/b"), ("s", "x/../../y"), ("d", "")] {
            #expect(throws: DKIMFailure.self) {
                try check([base.replacingOccurrences(of: tag == "d" ? "d=example.com" : "s=dkim", with: "\(tag)=\(value)")])
            }
        }
    }

    @Test func malformedTagListsNameTheProblem() {
        #expect(throws: DKIMFailure.malformedSignature(.missingEquals("garbage"))) { try check([base + "; garbage"]) }
        #expect(throws: DKIMFailure.malformedSignature(.emptyTagSpec(index: 2))) { try check(["v=1;; a=rsa-sha256"]) }
        #expect(throws: DKIMFailure.malformedSignature(.invalidTagName("1x"))) { try check(["1x=2"]) }
        #expect(throws: DKIMFailure.missingTag("b")) { try check([base.replacingOccurrences(of: "; b=def", with: "")]) }
        #expect(throws: DKIMFailure.signatureMissing) { try check([]) }
    }

    @Test func tagListKeepsValueRangesAndTrailingSemicolon() throws {
        let list = try TagList(parsing: " a = x y ;b=\t z;")
        #expect(list["a"] == "x y")
        #expect(list["b"] == "z")
        #expect(list.tag("b")?.valueRange == 14..<15)
    }
}
