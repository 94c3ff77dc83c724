internal import COpenSSL

/// A failure reported by OpenSSL, with the library's own error text when it gave one.
package struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being attempted and why it failed.
    package let description: String

    init(_ operation: String) {
        var detail = ""
        var code = ERR_get_error()
        while code != 0 {
            if detail.isEmpty {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            code = ERR_get_error()
        }
        description = detail.isEmpty ? operation : "\(operation) (\(detail))"
    }

    init(message: String) {
        description = message
    }
}
