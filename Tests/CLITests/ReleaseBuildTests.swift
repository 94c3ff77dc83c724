import Foundation
import TestSupport
import TestTraits
import Testing

/// Guards against the Swift 6.3.1 `-O` miscompile of a typed-throws do/catch that returns from
/// inside (docs/install.md, "Release builds"): the reduction is built at -O in the shape the project uses,
/// and no source file uses the other shape.
@Suite(.waitsOnProcesses) struct ReleaseBuildTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(
        "the shipped binary (static Swift runtime, stripped) starts with the Swift toolchain hidden",
        .enabled(
            if: ProcessInfo.processInfo.environment["ISCHEDULE_GATEWAY_BINARY"] != nil,
            "runs in the test command's second group, against deploy/build-release.sh's binary"))
    func runsWithoutTheToolchain() throws {
        let binary = GatewayBinary.url.path
        let dynamic = try Self.output("/usr/bin/readelf", ["-d", binary])
        // No Swift runtime library needed, and no search path into a toolchain (`$ORIGIN` only).
        #expect(!dynamic.contains("libswift") && !dynamic.contains("/opt/") && !dynamic.contains("/usr/lib/swift"), "\(dynamic)")
        #expect(!(try Self.output("/usr/bin/readelf", ["-S", "-W", binary])).contains(".symtab"), "not stripped")
        // A mount namespace in which /opt/swift (the toolchain and its runtime libraries) is an empty tmpfs.
        let namespace = try IsolatedNamespace(tmpfs: ["/opt/swift": "1m"])
        defer { namespace.stop() }
        #expect(try namespace.run("/bin/ls", ["-A", "/opt/swift"]).output.isEmpty)
        let work = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        try """
        listeners:
          - url: http://127.0.0.1:8080
        domains:
          example.com:
            dkim-keys:
              - private-key: keys/example.pem
                create-if-missing: true
            upstream: http://127.0.0.1:8008/
        """.write(to: work.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        let gateway = try namespace.start(binary, ["serve", "--config", work.appendingPathComponent("gateway.yaml").path], log: "gateway.log")
        for _ in 0..<300 where gateway.isRunning && !gateway.log.contains("listening on") { usleep(50_000) }
        #expect(gateway.log.contains("listening on http://127.0.0.1:8080"), "\(gateway.log)")
        gateway.stop()
    }

    static func output(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func theShapeWeUseSurvivesOptimisation() throws {
        let work = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = Self.repository.appendingPathComponent("Tests/Fixtures/release/typed-throws-task-group.swift").path
        let binary = work.appendingPathComponent("reduction").path
        let compile = try ChildProcess(
            "/usr/bin/env", ["swiftc", "-O", "-parse-as-library", source, "-o", binary],
            logPath: work.appendingPathComponent("swiftc.log").path)
        #expect(compile.waitForExit(timeout: 300) == 0, "\(compile.log)")
        let run = try ChildProcess(binary, [], logPath: work.appendingPathComponent("run.log").path)
        #expect(run.waitForExit(timeout: 120) == 0, "\(run.log)")
        #expect(run.log == "corrupted: 0 of 8000\n")
    }

    @Test func noSourceReturnsFromInsideATypedDoCatch() throws {
        let sources = Self.repository.appendingPathComponent("Sources")
        var offenders: [String] = []
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 50)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for block in Self.typedDoCatchBlocks(in: text) where block.range(of: #"\breturn\b"#, options: .regularExpression) != nil {
                offenders.append("\(file): \(block.prefix(80))")
            }
        }
        #expect(offenders.isEmpty, "return inside do throws(…)/catch: \(offenders)")
    }

    @Test func theScannerFindsTheShape() throws {
        let bad = "group.addTask {\n do throws(E) { return try f() } catch {\n return nil\n }\n}"
        let good = "let r: Result<T, E>\ndo throws(E) { r = .success(try f()) } catch { r = .failure(error) }\nreturn r"
        #expect(Self.typedDoCatchBlocks(in: bad).count == 1 && Self.typedDoCatchBlocks(in: bad)[0].contains("return"))
        #expect(Self.typedDoCatchBlocks(in: good).allSatisfy { !$0.contains("return") })
    }

    /// The text of each `do throws(…) { … } catch … { … }` (braces matched; strings are rare enough
    /// in these blocks not to matter).
    static func typedDoCatchBlocks(in text: String) -> [String] {
        let characters = Array(text)
        var blocks: [String] = []
        var search = text.startIndex
        while let found = text.range(of: "do throws(", range: search..<text.endIndex) {
            var index = text.distance(from: text.startIndex, to: found.lowerBound)
            let start = index
            func skipBlock() -> Bool {
                while index < characters.count && characters[index] != "{" { index += 1 }
                var depth = 0
                while index < characters.count {
                    if characters[index] == "{" { depth += 1 }
                    if characters[index] == "}" {
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    }
                    index += 1
                }
                return false
            }
            guard skipBlock() else { break }
            while true {
                var next = index
                while next < characters.count && characters[next].isWhitespace { next += 1 }
                guard String(characters[next..<min(next + 5, characters.count)]) == "catch" else { break }
                index = next
                guard skipBlock() else { break }
            }
            blocks.append(String(characters[start..<index]))
            search = text.index(text.startIndex, offsetBy: index)
        }
        return blocks
    }
}
