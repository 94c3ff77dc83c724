import Foundation

/// Stores a calendar object at `url` as a CalDAV client would (PUT with Basic authentication);
/// the server then schedules it. Returns the HTTP status.
public func calDAVPut(_ url: String, user: String, password: String, calendar: String, createOnly: Bool = false) throws -> Int {
    let script = """
        import base64, sys, urllib.error, urllib.request
        url, user, password, create_only = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
        auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        headers = {"Authorization": auth, "Content-Type": "text/calendar; charset=utf-8"}
        if create_only:
            headers["If-None-Match"] = "*"
        request = urllib.request.Request(url, data=sys.stdin.buffer.read(), method="PUT", headers=headers)
        try:
            print(urllib.request.urlopen(request, timeout=30).status)
        except urllib.error.HTTPError as error:
            print(error.code)
        """
    let run = try runPython(script, [url, user, password, createOnly ? "1" : "0"], input: Data(calendar.utf8))
    return Int(run.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
}
