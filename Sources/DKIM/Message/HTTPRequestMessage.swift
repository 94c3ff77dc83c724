/// An HTTP/1.x request as DKIM sees it: request line, ordered header fields and the decoded body.
package struct HTTPRequestMessage: Sendable, Equatable {
    package var method: String
    package var target: String
    package var version: String
    package var headers: [HeaderField]
    /// The body after any transfer coding was removed.
    package var body: [UInt8]

    package init(
        method: String = "POST", target: String = "/.well-known/ischedule", version: String = "HTTP/1.1",
        headers: [HeaderField], body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The request as bytes: header fields in order (a `Transfer-Encoding` is dropped because the
    /// body is written decoded) and a `Content-Length` that matches the body.
    package func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 1024)
        out += "\(method) \(target) \(version)\r\n".utf8
        var wroteLength = false
        for field in headers where !field.hasName("Transfer-Encoding") {
            if field.hasName("Content-Length") {
                if wroteLength { continue }
                wroteLength = true
                out += "\(field.name): \(body.count)\r\n".utf8
                continue
            }
            out += field.name.utf8
            out.append(UInt8(ascii: ":"))
            if let first = field.value.utf8.first, first == 0x20 || first == 0x09 {
            } else if !field.value.isEmpty {
                out.append(0x20)
            }
            out += field.value.utf8
            out += [0x0D, 0x0A]
        }
        if !wroteLength, !body.isEmpty || method == "POST" {
            out += "Content-Length: \(body.count)\r\n".utf8
        }
        out += [0x0D, 0x0A]
        out += body
        return out
    }
}
