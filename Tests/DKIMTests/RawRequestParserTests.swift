import TestSupport
import Testing

@testable import DKIM

@Suite struct RawRequestParserTests {
    private func parse(_ text: String) throws(RawRequestError) -> HTTPRequestMessage {
        try HTTPRequestMessage(parsing: Array(text.utf8))
    }

    @Test func vectorFileKeepsRawValuesAndRoundTrips() throws {
        let bytes = try Fixtures.bytes("derived-ischedule-request-B-rsa-sha1.http")
        let request = try HTTPRequestMessage(parsing: bytes)
        #expect(request.method == "POST" && request.target == "/.well-known/ischedule")
        #expect(request.headers.values(named: "originator") == ["    mailto:alice@example.com  "])
        #expect(request.body.count == 516)
        #expect(request.serialized() == bytes)
    }

    @Test func foldedHeadersAndBareLFAreRead() throws {
        let request = try parse("POST / HTTP/1.1\nRecipient: a,\n\tb\nContent-Length: 2\n\nhi")
        #expect(request.headers.values(named: "Recipient") == [" a,\r\n\tb"])
        #expect(request.body == Array("hi".utf8))
    }

    @Test func errorsNameTheLineOrTheLength() {
        #expect(throws: RawRequestError(line: 1, "request line must be 'METHOD TARGET HTTP/1.x'")) { try parse("hello\r\n\r\n") }
        #expect(throws: RawRequestError(line: 2, "header line has no ':'")) { try parse("POST / HTTP/1.1\r\nbroken\r\n\r\n") }
        #expect(throws: RawRequestError("Content-Length is 10 but only 2 body bytes follow")) {
            try parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhi")
        }
        #expect(throws: RawRequestError("1 bytes follow the 2-byte body that Content-Length announces")) {
            try parse("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\n")
        }
        #expect(throws: RawRequestError("invalid chunk size line 'zz'")) {
            try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        }
        #expect(throws: RawRequestError("the request is empty")) { try parse("") }
    }

    @Test func chunkedBodyIsDecodedAndSerializedWithContentLength() throws {
        let request = try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: v\r\n\r\n")
        #expect(request.body == Array("abcde".utf8))
        #expect(String(decoding: request.serialized(), as: UTF8.self) == "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde")
    }
}
