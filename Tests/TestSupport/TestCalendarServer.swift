import Foundation

/// A real HTTP server standing in for a CalDAV server's iSchedule endpoint
/// (Tests/Helpers/calendar_server.py): records every POST and answers schedule-responses.
public final class TestCalendarServer: @unchecked Sendable {
    public let port: UInt16
    /// "https" when started with a certificate, else "http".
    public let scheme: String
    private let process: ChildProcess
    private let recordFile: String

    /// One POST as the server received it.
    public struct Record: Sendable {
        public let path: String
        public let headers: [(name: String, value: String)]
        public let body: String

        public func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    /// - Parameter tls: a PEM certificate (chain) and key: the server speaks https with them.
    public init(tls: (cert: String, key: String)? = nil) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers/calendar_server.py").path
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("calendar-\(UUID().uuidString)").path
        recordFile = base + ".jsonl"
        _ = FileManager.default.createFile(atPath: recordFile, contents: nil)
        let certificate = tls.map { ["0", $0.cert, $0.key] } ?? []
        scheme = tls == nil ? "http" : "https"
        process = try ChildProcess("/usr/bin/env", ["python3", script, recordFile] + certificate, logPath: base + ".log")
        guard let port = process.announcedPort() else {
            let output = process.log
            process.stop()
            throw ChildProcessError("calendar test server did not start: \(output)")
        }
        self.port = port
    }

    public func url(_ path: String = "/ischedule") -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Every POST received so far, in order.
    public var records: [Record] {
        lines.filter { $0["method"] == nil }.compactMap { object in
            guard let path = object["path"] as? String, let pairs = object["headers"] as? [[String]],
                let body = object["body"] as? String
            else { return nil }
            return Record(path: path, headers: pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, body: body)
        }
    }

    /// Every free-busy REPORT received so far: its path (and query), and the most REPORTs the
    /// server had seen at once when it ended.
    public var reports: [(path: String, concurrent: Int)] {
        lines.filter { $0["method"] as? String == "REPORT" }.compactMap { object in
            (object["path"] as? String).map { ($0, object["concurrent"] as? Int ?? 0) }
        }
    }

    private var lines: [[String: Any]] {
        let text = (try? String(contentsOfFile: recordFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    public func stop() { process.stop() }
}
