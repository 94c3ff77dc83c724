import Foundation
import Testing
import TestSupport

/// Guards against the Swift 6.3.1 `-O` miscompile of a typed-throws do/catch that returns from
/// inside (README, "Release builds"): the reduction is built at -O in the shape the project uses,
/// and no source file uses the other shape.
@Suite struct ReleaseBuildTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShapeWeUseSurvivesOptimisation() throws {
        let work = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = Self.repository.appendingPathComponent("Tests/Fixtures/release/typed-throws-task-group.swift").path
        let binary = work.appendingPathComponent("reduction").path
        let compile = try ChildProcess("/usr/bin/env", ["swiftc", "-O", "-parse-as-library", source, "-o", binary],
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
                    if characters[index] == "}" { depth -= 1; if depth == 0 { index += 1; return true } }
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
