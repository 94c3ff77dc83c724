/// Removes chunked transfer coding (RFC 9112 §7.1): size lines, extensions and trailers.
enum ChunkedDecoder {
    static func decode(_ bytes: [UInt8]) throws(RawRequestError) -> [UInt8] {
        var reader = LineReader(bytes: bytes)
        var body: [UInt8] = []
        while true {
            guard let sizeLine = reader.nextLine() else { throw RawRequestError("chunked body ends before the last chunk") }
            let digits = sizeLine.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
            else { throw RawRequestError("invalid chunk size line '\(String(decoding: sizeLine, as: UTF8.self))'") }
            if size == 0 { break }
            let start = reader.position
            guard bytes.count - start >= size else { throw RawRequestError("chunk of \(size) bytes is cut short") }
            body += bytes[start..<(start + size)]
            reader = LineReader(bytes: bytes, startingAt: start + size)
            guard let terminator = reader.nextLine(), terminator.isEmpty else {
                throw RawRequestError("chunk data is not followed by CRLF")
            }
        }
        while let trailer = reader.nextLine(), !trailer.isEmpty {}
        guard reader.remainder.isEmpty else {
            throw RawRequestError("\(reader.remainder.count) bytes follow the end of the chunked body")
        }
        return body
    }
}
