internal import Foundation

/// `/status`: the status report as a small read-only HTML page (no script, no external
/// resources), refreshed by the browser every 30 s.
enum StatusPage {
    static func html(_ report: StatusReport) -> String {
        let now = report.generatedAt
        var rows = ""
        for remote in report.remotes {
            let last = remote.lastAttemptAt.map { "\(escape(remote.lastOutcome ?? "")) \(StatusReport.age(now - $0)) ago" } ?? "none since start"
            let circuit =
                remote.circuit == "open"
                ? "open for \(StatusReport.age((remote.openUntil ?? now) - now))"
                : remote.circuit == "failing" ? "failing (\(remote.consecutiveFailures))" : "closed"
            let queue =
                remote.pending + remote.held == 0
                ? "empty"
                : "\(remote.pending) pending, \(remote.held) held"
                    + (remote.oldestPendingCreatedAt.map { ", oldest \(StatusReport.age(now - $0))" } ?? "")
            rows +=
                "<tr class=\"\(escape(remote.circuit))\"><td>\(escape(remote.domain))</td><td>\(last)</td>"
                + "<td>\(escape(remote.lastDetail ?? ""))</td><td>\(circuit)</td><td>\(queue)</td><td>\(remote.failed)</td></tr>\n"
        }
        let generated = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(now) / 1000))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
            <title>ischedule-gateway status</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
            tr.open td{background:#fdd}tr.failing td{background:#ffd}</style></head>
            <body><h1>ischedule-gateway \(escape(report.version))</h1>
            <p>Local domains: \(report.localDomains.map(escape).joined(separator: ", ")). Generated \(generated).</p>
            \(report.queueProblem.map { "<p><strong>Queue unreadable:</strong> \(escape($0))</p>" } ?? "")
            <table><tr><th>Remote domain</th><th>Last attempt</th><th>Answer</th><th>Circuit</th><th>Queue</th><th>Failed</th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"6\">no remote domain attempted since start, nothing queued</td></tr>" : rows)</table>
            </body></html>

            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
