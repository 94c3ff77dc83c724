public import Foundation

/// The `ischedule-gateway` binary the tests run: `ISCHEDULE_GATEWAY_BINARY` when set (CI runs
/// the service and CLI tests again with the release build that way), else the debug build
/// beside the test bundle.
public enum GatewayBinary {
    public static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["ISCHEDULE_GATEWAY_BINARY"], !path.isEmpty {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            guard FileManager.default.isExecutableFile(atPath: url.path) else {
                fatalError("ISCHEDULE_GATEWAY_BINARY=\(path) is not an executable file")
            }
            return url
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("ischedule-gateway")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        fatalError("ischedule-gateway binary not found next to \(directory.path)")
    }()
}

extension GatewayBinary {
    /// Runs the binary to its end with `arguments`; its status and output (stdout and stderr together).
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { _, given in given }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A gateway started by a test with `serve --config`, stopped with SIGTERM.
public final class GatewayProcess: @unchecked Sendable {
    public let directory: URL
    public let process: ChildProcess
    /// The URLs of the `listening on` lines, in order.
    public let listening: [String]

    /// Writes `configuration` to `<directory>/gateway.yaml` and starts the gateway on it; returns
    /// once it has printed one `listening on` line per listener (bounded: 30 s).
    public convenience init(
        configuration: String, directory: URL, listeners: Int, environment: [String: String] = [:],
        launcher: [String] = []
    ) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("gateway.yaml")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        try self.init(
            arguments: ["serve", "--config", file.path], directory: directory, listeners: listeners, environment: environment,
            launcher: launcher)
    }

    /// Writes `configuration` (built with `GatewayYAML`) and starts the gateway on it.
    public convenience init(
        configuration: GatewayYAML, directory: URL, listeners: Int = 1, environment: [String: String] = [:], launcher: [String] = []
    ) throws {
        try self.init(configuration: configuration.text, directory: directory, listeners: listeners, environment: environment, launcher: launcher)
    }

    /// Starts the binary with `arguments` in the working directory `directory`.
    /// - Parameter launcher: a prefix that starts the gateway elsewhere (`IsolatedNamespace.launcher`).
    public init(arguments: [String], directory: URL, listeners: Int, environment: [String: String] = [:], launcher: [String] = []) throws {
        self.directory = directory
        // A restart appends to the same log: only lines written by this process count.
        let logPath = directory.appendingPathComponent("gateway.log").path
        let offset = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        // env -C sets the working directory (the default configuration is looked up there) and
        // adds the test's variables.
        let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let command = launcher + ["/usr/bin/env", "-C", directory.path] + variables + [GatewayBinary.url.path] + arguments
        process = try ChildProcess(command[0], Array(command.dropFirst()), logPath: logPath)
        var lines: [String] = []
        for _ in 0..<600 where process.isRunning {
            let fresh = String(decoding: Array(process.log.utf8).dropFirst(offset), as: UTF8.self)
            lines = fresh.split(separator: "\n").filter { $0.hasPrefix("listening on ") }.map { String($0.dropFirst(13)) }
            if lines.count >= listeners { break }
            usleep(50_000)
        }
        guard lines.count >= listeners else {
            let output = process.log
            process.stop()
            throw ChildProcessError("gateway did not start: \(output)")
        }
        listening = lines
    }

    public var log: String { process.log }

    /// The port of each listener, from its `listening on` line (configure port 0 to let the kernel choose).
    public var ports: [UInt16] { listening.compactMap { $0.split(separator: ":").last.flatMap { UInt16($0) } } }

    /// The port of the first listener with `scheme` (`http`, `https`): listeners announce
    /// themselves in the order they come up, not in configuration order.
    public func port(_ scheme: String) -> UInt16? {
        listening.first { $0.hasPrefix("\(scheme)://") }.flatMap { $0.split(separator: ":").last.flatMap { UInt16($0) } }
    }

    /// SIGTERM, then the exit status (nil if it did not exit within `timeout` seconds; it is then killed).
    @discardableResult
    public func stop(timeout: Double = 15) -> Int32? {
        process.send(SIGTERM)
        let status = process.waitForExit(timeout: timeout)
        if status == nil { process.stop(grace: 0) }
        return status
    }

    /// A fresh temporary directory for a gateway's configuration, keys and data.
    public static func temporaryDirectory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(name)-\(UUID().uuidString.prefix(8))")
    }
}
