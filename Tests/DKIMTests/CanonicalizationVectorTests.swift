import TestSupport
import Testing

@testable import DKIM

/// §13 check 27: Apple's canonicalization cases, byte for byte.
@Suite struct CanonicalizationVectorTests {
    @Test func headerCanonicalizationMatchesAppleCases() throws {
        let cases = try Fixtures.json("apple-test_dkim-header-canonicalization.json")["cases"] as! [[String: String]]
        #expect(cases.count == 6)
        for (index, item) in cases.enumerated() {
            let name = item["name"]!
            let raw = item["raw_value"]!
            let output: [UInt8]
            if name == "DKIM-Signature" {
                let signature = try DKIMSignature(parsing: raw)
                var out: [UInt8] = []
                HeaderCanonicalizer.appendISchedulRelaxedSignature(value: Array(raw.utf8), removing: signature.tags.tag("b")?.valueRange, to: &out)
                output = out
            } else {
                output = HeaderCanonicalizer.ischeduleRelaxed(name: name, values: [raw])
            }
            #expect(String(decoding: output, as: UTF8.self) == item["expected"]!, "case \(index) (\(name))")
        }
    }

    @Test func signedHeaderExtractionMatchesAppleCases() throws {
        let cases = try Fixtures.json("apple-test_dkim-signed-header-extraction.json")["cases"] as! [[String: Any]]
        #expect(cases.count == 3)
        for (index, item) in cases.enumerated() {
            let headers = (item["received_headers"] as! [[String]]).map { HeaderField(name: $0[0], value: $0[1]) }
            let field = try DKIMSignature.field(in: headers)
            let signature = try DKIMSignature(parsing: field.value)
            let text = SigningInput.headerText(headers: headers, signature: signature)
            #expect(String(decoding: text, as: UTF8.self) == item["expected_signed_string"] as! String, "case \(index)")
        }
    }

    @Test func simpleBodyCanonicalizationMatchesAppleCases() throws {
        let cases = try Fixtures.json("apple-test_dkim-body-canonicalization.json")["cases"] as! [[String: String]]
        #expect(cases.count == 3)
        for item in cases {
            let output = BodyCanonicalizer.canonicalize(Array(item["body"]!.utf8), .simple)
            #expect(String(decoding: output, as: UTF8.self) == item["expected"]!)
        }
    }

    @Test func emptyBodyHashesAreTheWellKnownConstants() throws {
        let vectors = try Fixtures.json("derived-ischedule-signing-vectors.json")["empty_body"] as! [String: String]
        let sha256 = BodyCanonicalizer.hash([], .simple, using: .sha256)
        let sha1 = BodyCanonicalizer.hash([], .simple, using: .sha1)
        #expect(base64(sha256.digest) == vectors["bh_sha256"]!)
        #expect(base64(sha1.digest) == vectors["bh_sha1"]!)
        #expect(sha256.length == 2)
    }

    @Test func relaxedBodyCanonicalization() {
        func relaxed(_ text: String) -> String {
            String(decoding: BodyCanonicalizer.canonicalize(Array(text.utf8), .relaxed), as: UTF8.self)
        }
        #expect(relaxed("") == "")
        #expect(relaxed("\r\n\r\n") == "")
        #expect(relaxed(" C \r\nD \t E\r\n\r\n\r\n") == " C\r\nD E\r\n")
        #expect(relaxed("a\r\n\r\nb") == "a\r\n\r\nb\r\n")
        #expect(relaxed("x\t\t\r\n") == "x\r\n")
    }

    @Test func relaxedAndSimpleHeaderCanonicalization() {
        var out: [UInt8] = []
        HeaderCanonicalizer.appendRelaxed(name: "Subject", value: " AbC \r\n\t def  ", terminated: true, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "subject:AbC def\r\n")
        out = []
        HeaderCanonicalizer.appendSimple(name: "SubJect", value: " AbC  ", terminated: true, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "SubJect: AbC  \r\n")
        out = []
        HeaderCanonicalizer.appendSimpleHTTP(name: "originator", value: "  mailto:a@b.c ", terminated: true, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "originator: mailto:a@b.c\r\n")
    }

    @Test func commaRuleMatchesApplesReplaceOrder() {
        let cases: [(String, String)] = [
            ("a , , b", "x:a,,b\r\n"), (", ,", "x:,,\r\n"), ("  a\u{0B}\u{0C}b ,c", "x:a b,c\r\n"), ("", "x:\r\n"),
            ("\"q , r\"", "x:\"q,r\"\r\n")
        ]
        for (value, expected) in cases {
            #expect(String(decoding: HeaderCanonicalizer.ischeduleRelaxed(name: "X", values: [value]), as: UTF8.self) == expected)
        }
    }
}
