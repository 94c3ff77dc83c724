public import Foundation

/// Test data copied from the protocol reference's `vectors/` (see Tests/Fixtures/vectors/README.md).
public enum Fixtures {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/vectors")

    public static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    public static func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self)
    }

    public static func bytes(_ name: String) throws -> [UInt8] {
        Array(try data(name))
    }

    public static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: data(name)) as! [String: Any]
    }

    /// The base64 SPKI of the Apple 2048-bit test key (the `{P}` placeholder of the vectors).
    public static func publicKeyBase64() throws -> String {
        try text("apple-test_dkim-rsa2048-public.pem").split(separator: "\n")
            .filter { !$0.hasPrefix("-----") }.joined()
    }
}

public func base64(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
}
