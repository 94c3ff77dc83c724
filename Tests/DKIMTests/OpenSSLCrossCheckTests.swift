import Foundation
import TestSupport
import Testing

@testable import DKIM

/// The canonical signing string our signer produced verifies with the `openssl` CLI, which shares
/// none of our code but the library underneath.
@Suite struct OpenSSLCrossCheckTests {
    @Test(arguments: [SigningAlgorithm.rsaSHA256, .rsaSHA1])
    func opensslCommandVerifiesOurSignature(algorithm: SigningAlgorithm) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dkim-openssl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let vector = try SigningVectorTests.vector("A")
        var request = HTTPRequestMessage(headers: vector.headers, body: try SigningVectorTests.body())
        let result = try SigningVectorTests.signer(algorithm, methods: [.dnsTXT]).sign(&request, now: 1_700_000_000)
        let signature = try DKIMSignature(parsing: result.headerValue)
        try Data(result.signedText).write(to: directory.appendingPathComponent("signed.txt"))
        try Data(base64Encoded: signature.signatureBase64)!.write(to: directory.appendingPathComponent("signature.bin"))
        try FileManager.default.copyItem(
            at: Fixtures.directory.appendingPathComponent("apple-test_dkim-rsa2048-public.pem"),
            to: directory.appendingPathComponent("public.pem"))

        func openssl(_ textFile: String) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "openssl", "dgst", "-\(algorithm.hash.rawValue)", "-verify", "public.pem",
                "-signature", "signature.bin", textFile
            ]
            process.currentDirectoryURL = directory
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }

        let good = try openssl("signed.txt")
        #expect(good.status == 0)
        #expect(good.output.contains("Verified OK"))

        var tampered = result.signedText
        tampered[0] ^= 0x20
        try Data(tampered).write(to: directory.appendingPathComponent("tampered.txt"))
        let bad = try openssl("tampered.txt")
        #expect(bad.status != 0)
        #expect(bad.output.contains("Verification failure"))
    }
}
