import Foundation
import TestSupport
import Testing

@testable import DKIM

/// §13 check 30: any single change to a signed part fails; hop-level changes do not.
@Suite struct TamperTests {
    let clock: Int64 = 1_700_000_100

    private func raw() throws -> String {
        try Fixtures.text("derived-ischedule-request-A-rsa-sha256.http")
    }

    private func verify(_ text: String) async throws -> DKIMVerifier.Verified {
        let request = try HTTPRequestMessage(parsing: Array(text.utf8))
        return try await SigningVectorTests.verifier(at: clock).verify(request)
    }

    private func expectMismatch(_ text: String) async throws {
        await #expect(throws: DKIMFailure.signatureMismatch(domain: "example.com", selector: "ischedule")) {
            try await verify(text)
        }
    }

    @Test func untouchedRequestVerifies() async throws {
        _ = try await verify(try raw())
    }

    @Test func oneBodyByteChangedFailsTheBodyHash() async throws {
        let text = try raw().replacingOccurrences(of: "SUMMARY:iSchedule test", with: "SUMMARY:iSchedule tesT")
        await #expect {
            try await verify(text)
        } throws: { error in
            guard case .bodyHashMismatch(let expected, let computed) = error as? DKIMFailure else { return false }
            return expected == "amQNMryZIDdLVi4ApBKq6D99l2Hoelx+tOwORmzA6f8=" && computed != expected
        }
    }

    @Test func changedOriginatorFails() async throws {
        try await expectMismatch(
            try raw().replacingOccurrences(
                of: "Originator: mailto:alice@example.com",
                with: "Originator: mailto:mallory@example.com"))
    }

    @Test func extraRecipientHeaderFails() async throws {
        try await expectMismatch(
            try raw().replacingOccurrences(
                of: "Recipient: mailto:carol@example.org\r\n",
                with: "Recipient: mailto:carol@example.org\r\nRecipient: mailto:eve@example.org\r\n"))
    }

    @Test func extraRecipientInsideTheListFails() async throws {
        try await expectMismatch(
            try raw().replacingOccurrences(
                of: "Recipient: mailto:carol@example.org",
                with: "Recipient: mailto:carol@example.org, mailto:eve@example.org"))
    }

    @Test func changedContentTypeMethodFails() async throws {
        try await expectMismatch(try raw().replacingOccurrences(of: "method=REQUEST", with: "method=CANCEL"))
    }

    @Test func removedSignedHeaderFails() async throws {
        try await expectMismatch(try raw().replacingOccurrences(of: "User-Agent: ExampleGateway/1.0\r\n", with: ""))
    }

    @Test func removedMessageIDFails() async throws {
        let text = try raw().split(separator: "\r\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("iSchedule-Message-ID:") }.joined(separator: "\r\n")
        try await expectMismatch(text)
    }

    @Test func changedHostStillVerifies() async throws {
        _ = try await verify(try raw().replacingOccurrences(of: "Host: cal.example.org:8443", with: "Host: other.example.net"))
    }

    @Test func changedCacheControlStillVerifies() async throws {
        _ = try await verify(try raw().replacingOccurrences(of: "Cache-Control: no-cache, no-transform", with: "Cache-Control: max-age=0"))
    }

    @Test func chunkedBodyStillVerifies() async throws {
        let text = try raw()
        let split = text.range(of: "\r\n\r\n")!
        let head = String(text[..<split.lowerBound]).replacingOccurrences(of: "Content-Length: 516", with: "Transfer-Encoding: chunked")
        let body = Array(text[split.upperBound...].utf8)
        var chunked = head + "\r\n\r\n"
        var offset = 0
        for size in [100, 1, 300, 115] {
            chunked += String(size, radix: 16) + (size == 1 ? ";ext=1" : "") + "\r\n"
            chunked += String(decoding: body[offset..<(offset + size)], as: UTF8.self) + "\r\n"
            offset += size
        }
        chunked += "0\r\n\r\n"
        #expect(offset == body.count)
        _ = try await verify(chunked)
    }
}
