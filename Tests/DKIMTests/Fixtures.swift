import Foundation

/// Test data copied from the protocol reference's `vectors/` (see Tests/Fixtures/vectors/README.md).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/vectors")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try data(name))
    }

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: data(name)) as! [String: Any]
    }

    /// The base64 SPKI of the Apple 2048-bit test key (the `{P}` placeholder of the vectors).
    static func publicKeyBase64() throws -> String {
        try text("apple-test_dkim-rsa2048-public.pem").split(separator: "\n")
            .filter { !$0.hasPrefix("-----") }.joined()
    }
}

func base64(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
}
