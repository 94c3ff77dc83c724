import Foundation

/// One CalDAV request as a client sends it (Python's urllib, so that every method carries its
/// body and Content-Length): Basic authentication when `user` is given. Status and body.
public func calDAVRequest(
    _ method: String, _ url: String, user: String? = nil, password: String = "", headers: [String: String] = [:], body: String = ""
) throws -> (status: Int, body: String) {
    let script = """
        import base64, json, sys, urllib.error, urllib.request
        method, url, user, password, headers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
        if user:
            headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        data = sys.stdin.buffer.read()
        request = urllib.request.Request(url, data=data if data or method in ("PUT", "POST", "REPORT") else None, method=method, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=30)
            status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        sys.stdout.write("%d\\n" % status)
        sys.stdout.write(text.decode("utf-8", "replace"))
        """
    let headerJSON = String(decoding: try JSONSerialization.data(withJSONObject: headers), as: UTF8.self)
    let run = try runPython(script, [method, url, user ?? "", password, headerJSON], input: Data(body.utf8))
    let lines = run.output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard run.status == 0, let first = lines.first, let status = Int(first) else {
        throw ChildProcessError("\(method) \(url) failed: \(run.output)")
    }
    return (status, lines.count > 1 ? String(lines[1]) : "")
}

/// A CalDAV `free-busy-query` REPORT body for the UTC range `start`–`end` (`20261201T000000Z`).
public func freeBusyQuery(start: String, end: String) -> String {
    """
    <?xml version="1.0" encoding="utf-8"?>
    <C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="\(start)" end="\(end)"/></C:free-busy-query>
    """
}

/// The calendar objects of a collection as a client reads them: PROPFIND Depth 1 for the
/// members, then a GET of each `.ics` (URL and body). Each request is tried up to 3 times when
/// the connection fails (Cyrus forks per request and may not answer on a loaded machine).
public func calDAVObjects(in collection: String, user: String? = nil, password: String = "") throws -> [(url: String, body: String)] {
    func attempt(_ method: String, _ url: String, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        var lastError: any Error = ChildProcessError("\(method) \(url): no attempt")
        for try_ in 0..<3 {
            do { return try calDAVRequest(method, url, user: user, password: password, headers: headers) } catch {
                lastError = error
                usleep(UInt32(500_000 * (try_ + 1)))
            }
        }
        throw lastError
    }
    let listing = try attempt("PROPFIND", collection, headers: ["Depth": "1"])
    guard let base = URL(string: collection) else { return [] }
    var hrefs: [String] = []
    var rest = Substring(listing.body)
    while let open = rest.range(of: ":href>") ?? rest.range(of: "<href>") {
        rest = rest[open.upperBound...]
        guard let close = rest.range(of: "</") else { break }
        let href = String(rest[..<close.lowerBound])
        if href.hasSuffix(".ics") { hrefs.append(href) }
        rest = rest[close.upperBound...]
    }
    return try hrefs.compactMap { href in
        let url = URL(string: href, relativeTo: base)?.absoluteString ?? href
        let response = try attempt("GET", url)
        return response.status == 200 ? (url, response.body) : nil
    }
}
