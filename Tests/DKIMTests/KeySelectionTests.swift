import Foundation
import TestSupport
import Testing

@testable import DKIM

/// §13 checks 32 and 33: key-record selection and q= gating.
@Suite struct KeySelectionTests {
    private func locate(_ locator: KeyLocator, methods: [KeyQueryMethod], hash: HashAlgorithm = .sha1) async throws(DKIMFailure)
        -> KeyLocator.LocatedKey
    {
        try await locator.locate(domain: "example.com", selector: "dkim", methods: methods, hash: hash, minimumBits: 1024)
    }

    @Test func appleSelectionRows() async throws {
        let json = try Fixtures.json("apple-test_dkim-key-record-selection.json")
        let p = try Fixtures.publicKeyBase64()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("px-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, item) in (json["cases"] as! [[String: Any]]).enumerated() {
            let found = item["key_found"] as! Bool
            let locator: KeyLocator
            if let content = item["records_file_content"] as? String {
                let domainDirectory = directory.appendingPathComponent("case\(index)/example.com")
                try FileManager.default.createDirectory(at: domainDirectory, withIntermediateDirectories: true)
                try content.replacingOccurrences(of: "{P}", with: p)
                    .write(to: domainDirectory.appendingPathComponent("dkim"), atomically: true, encoding: .utf8)
                locator = KeyLocator(sources: [
                    .privateExchange: PrivateExchangeKeyStore(directory: directory.appendingPathComponent("case\(index)").path)
                ])
                let result = try? await locate(locator, methods: [.privateExchange])
                #expect((result != nil) == found, "row \(index)")
            } else {
                let records = (item["records"] as! [String]).map { $0.replacingOccurrences(of: "{P}", with: p) }
                locator = KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: records)])
                var failure: DKIMFailure?
                do { _ = try await locate(locator, methods: [.dnsTXT]) } catch { failure = error }
                #expect((failure == nil) == found, "row \(index): \(item["why"] ?? "") → \(failure?.description ?? "found")")
            }
        }
    }

    @Test func queryMethodGate() async throws {
        let p = try Fixtures.publicKeyBase64()
        let locator = KeyLocator(sources: [.httpWellKnown: FixedKeyRecords(records: ["v=DKIM1; p=\(p)"])])
        _ = try await locate(locator, methods: [.dnsTXT, .httpWellKnown])
        await #expect(throws: DKIMFailure.keyNotFound(domain: "example.com", selector: "dkim", methods: [])) {
            try await locate(locator, methods: [.dnsTXT])
        }
    }

    @Test func firstAcceptableRecordWinsAcrossMethodsInQOrder() async throws {
        let p = try Fixtures.publicKeyBase64()
        let locator = KeyLocator(sources: [
            .privateExchange: FixedKeyRecords(records: ["v=DKIM1; s=email; p=\(p)"]),
            .dnsTXT: FixedKeyRecords(records: ["v=DKIM1; k=rsa; p=\(p)"])
        ])
        let located = try await locate(locator, methods: [.privateExchange, .dnsTXT])
        #expect(located.method == .dnsTXT)
    }

    @Test func revokedKeyIsReportedAsRevoked() async throws {
        let locator = KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: ["v=DKIM1; p="])])
        await #expect(throws: DKIMFailure.keyRevoked(domain: "example.com", selector: "dkim")) {
            try await locate(locator, methods: [.dnsTXT])
        }
    }

    @Test func hashListIsHonoured() async throws {
        let p = try Fixtures.publicKeyBase64()
        let locator = KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: ["v=DKIM1; h=sha256; p=\(p)"])])
        _ = try await locate(locator, methods: [.dnsTXT], hash: .sha256)
        await #expect(throws: DKIMFailure.self) { try await locate(locator, methods: [.dnsTXT], hash: .sha1) }
    }

    /// Stands in for a DNS server that times out: the transport layer that talks to real DNS
    /// arrives with the transport issue, and only the failure's classification is tested here.
    struct TimingOutKeySourceFake: KeyRecordSource {
        func keyRecords(domain: String, selector: String) async throws(KeyLookupError) -> [String] {
            throw KeyLookupError(reason: "DNS query timed out", isTemporary: true)
        }
    }

    @Test func temporaryLookupFailureIsTemporary() async throws {
        let locator = KeyLocator(sources: [.dnsTXT: TimingOutKeySourceFake()])
        do {
            _ = try await locate(locator, methods: [.dnsTXT])
            Issue.record("expected a failure")
        } catch {
            #expect(error == .keyLookupFailed(method: .dnsTXT, reason: "DNS query timed out"))
            #expect(error.isTemporary)
        }
    }

    @Test func keysUnder1024BitsAreRefused() async throws {
        let small = try RSAPrivateKey.generate(bits: 768)
        let locator = KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [KeyRecord.text(for: small.publicKey)])])
        await #expect(throws: DKIMFailure.keyTooSmall(bits: 768, minimum: 1024)) {
            try await locate(locator, methods: [.dnsTXT], hash: .sha256)
        }
    }

    @Test func appleKeyLocatorNames() throws {
        let json = try Fixtures.json("apple-test_dkim-key-locators.json")
        let cases = (json["selector_keys"] as! [String: Any])["cases"] as! [[String: String]]
        for item in cases {
            let d = item["d"]!
            let s = item["s"]!
            switch item["method"]! {
            case "dns/txt": #expect(KeyLocation.dnsName(domain: d, selector: s) == item["key"]!)
            case "http/well-known": #expect(item["key"]!.hasSuffix(KeyLocation.wellKnownPath(domain: d, selector: s)))
            default: #expect(item["key"]! == "\(d)#\(s)")
            }
        }
    }

    @Test func privateExchangeReadsAppleFlatFilesAndRefusesTraversal() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pxa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: Fixtures.directory.appendingPathComponent("apple-conf-dkim-test-private-exchange_example.org__ischedule2.txt"),
            to: directory.appendingPathComponent("example.org#ischedule2"))
        let store = PrivateExchangeKeyStore(directory: directory.path)
        let records = try await store.keyRecords(domain: "Example.ORG", selector: "ischedule2")
        #expect(records.count == 1 && records[0].hasPrefix("v=DKIM1; p=MIGfMA0"))
        #expect(try await store.keyRecords(domain: "..", selector: "x").isEmpty)
        #expect(try await store.keyRecords(domain: "example.org", selector: "../example.org#ischedule2").isEmpty)
    }

    @Test func privateExchangeFilesAreReadAgainOnceChanged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pe-\(UUID().uuidString)")
        let file = directory.appendingPathComponent("example.org/sel")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = PrivateExchangeKeyStore(directory: directory.path)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel").isEmpty)

        try "v=DKIM1; p=AAAA\n".write(to: file, atomically: false, encoding: .utf8)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=AAAA"])
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=AAAA"])
        // Edited in place, same length: the modification time tells.
        try "v=DKIM1; p=BBBB\n".write(to: file, atomically: false, encoding: .utf8)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=BBBB"])
        // Replaced by rename (a new inode), as editors and deploy tools do.
        try "# rotated\nv=DKIM1; p=CCCC\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=CCCC"])
        try FileManager.default.removeItem(at: file)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel").isEmpty)

        // A file older than two seconds is kept: while stat shows the same file (here content
        // changed behind a restored modification time) it is not read again.
        let old = Date(timeIntervalSinceNow: -3_600)
        try "v=DKIM1; p=DDDD\n".write(to: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=DDDD"])
        try "v=DKIM1; p=EEEE\n".write(to: file, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=DDDD"])
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        #expect(try await store.keyRecords(domain: "example.org", selector: "sel") == ["v=DKIM1; p=EEEE"])
    }
}
