import Foundation
import TestSupport

/// Runs the built `ischedule-gateway` binary (it sits beside the test bundle).
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: [UInt8]
        let stderr: String
        var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    static var binary: URL { GatewayBinary.url }

    /// - Parameter path: another copy of the binary (an installed one) instead of the built one.
    static func run(_ arguments: [String], in directory: URL? = nil, binary path: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = path.map { URL(fileURLWithPath: $0) } ?? binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: Array(outData), stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
