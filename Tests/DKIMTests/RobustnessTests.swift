import TestSupport
import Testing

@testable import DKIM

/// 100,000 generated and mutated inputs per parser; every one must end in a value or a typed error.
/// The loops yield now and then: they are CPU-bound and would otherwise hold the cooperative pool.
@Suite struct RobustnessTests {
    static let iterations = 100_000

    static func signatureCorpus() throws -> [[UInt8]] {
        let vectors = try Fixtures.json("derived-ischedule-signing-vectors.json")["vectors"] as! [[String: Any]]
        let tagRows = (try Fixtures.json("apple-test_dkim-signature-tag-validation.json")["cases"] as! [[String: Any]])
            .flatMap { $0["headers"] as! [String] }
        return (vectors.map { $0["dkim_signature_value"] as! String } + tagRows + ["v=DKIM1; k=rsa; h=sha1:sha256; s=ischedule; p=MIIB"])
            .map { Array($0.utf8) }
    }

    static let tokens = [
        "v=", "a=rsa-sha256", "b=", "bh=", "c=ischedule-relaxed/simple", "; ", ";", "=", ":", "\r\n ",
        "h=Originator:Recipient", "t=", "x=99999999999999", "l=", "q=dns/txt", "d=", "s=", ",", " , "
    ]

    @Test func tagParserAndSignatureParserSurviveMutatedInput() async throws {
        var mutator = InputMutator(seed: 0x7A65, corpus: try Self.signatureCorpus(), tokens: Self.tokens)
        var parsed = 0
        var refused = 0
        for iteration in 0..<Self.iterations {
            if iteration % 256 == 0 { await Task.yield() }  // share the pool with timing-sensitive suites
            let text = String(decoding: mutator.nextInput(), as: UTF8.self)
            do {
                let list = try TagList(parsing: text)
                parsed += 1
                for tag in list.tags { #expect(tag.valueRange.upperBound <= text.utf8.count) }
                if let signature = try? DKIMSignature(parsing: text) {
                    _ = signature.valueWithoutSignature
                    try? signature.check(policy: .iSchedule, now: 1_700_000_000)
                }
            } catch {
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(parsed + refused == Self.iterations)
        #expect(parsed > 1_000 && refused > 1_000, "the corpus should exercise both outcomes")
    }

    @Test func headerCanonicalizersSurviveMutatedInput() async throws {
        let corpus =
            try Self.signatureCorpus() + [
                Array(" text/calendar  ; charset =  \"utf-8\"  ".utf8),
                Array("  mailto:a@b.c  ,\t mailto:d@e.f\t\t".utf8)
            ]
        var mutator = InputMutator(seed: 0xCA40, corpus: corpus, tokens: Self.tokens + ["\u{0B}", "\u{0C}", "\t\t"])
        for iteration in 0..<Self.iterations {
            if iteration % 256 == 0 { await Task.yield() }  // share the pool with timing-sensitive suites
            let value = String(decoding: mutator.nextInput(), as: UTF8.self)
            let canonical = HeaderCanonicalizer.ischeduleRelaxed(name: "Recipient", values: [value, value])
            // Invariants of ischedule-relaxed: one CRLF at the end, no whitespace runs, none beside commas.
            #expect(canonical.suffix(2) == [0x0D, 0x0A])
            let body = canonical.dropLast(2)
            #expect(!body.contains(0x09) && !body.contains(0x0D) && !body.contains(0x0A))
            #expect(body.firstRange(of: [0x20, 0x20] as [UInt8]) == nil)
            #expect(body.firstRange(of: [0x20, 0x2C] as [UInt8]) == nil && body.firstRange(of: [0x2C, 0x20] as [UInt8]) == nil)
            var relaxed: [UInt8] = []
            HeaderCanonicalizer.appendRelaxed(name: "X", value: value, terminated: true, to: &relaxed)
            #expect(relaxed.starts(with: Array("x:".utf8)))
            if let signature = try? DKIMSignature(parsing: value) {
                _ = SigningInput.headerText(headers: [HeaderField(name: "Recipient", value: value)], signature: signature)
            }
        }
    }

    @Test func rawRequestParserSurvivesMutatedInput() async throws {
        let corpus = [
            try Fixtures.bytes("derived-ischedule-request-A-rsa-sha256.http"),
            Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".utf8)
        ]
        var mutator = InputMutator(seed: 0x4E77, corpus: corpus, tokens: ["\r\n", ":", "Content-Length: 5\r\n", "chunked", "\r\n\r\n"])
        for iteration in 0..<10_000 {
            if iteration % 256 == 0 { await Task.yield() }
            let input = mutator.nextInput()
            if let request = try? HTTPRequestMessage(parsing: input) {
                #expect((try? HTTPRequestMessage(parsing: request.serialized()))?.body == request.body)
            }
        }
    }
}
