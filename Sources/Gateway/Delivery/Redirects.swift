internal import Transport

/// How every iSchedule request here follows redirects (protocol reference §8.2): at most `limit`
/// hops, never from https to http, each hop made afresh by `send` (a POST is signed again for
/// each), and a 301/308 reported as a permanent move.
enum Redirects {
    enum Outcome: Sendable {
        /// The first answer that is not a redirect; `movedTo` is the target of the last 301/308 seen.
        case answered(HTTPClientResponse, url: String, movedTo: String?)
        case failed(HTTPClientError, url: String)
        case downgrade(from: String, to: String)
        case tooMany
    }

    static func follow(
        from url: String, limit: Int,
        send: (String) async -> Result<HTTPClientResponse, HTTPClientError>
    ) async -> Outcome {
        var current = url
        var movedTo: String?
        for _ in 0...limit {
            let response: HTTPClientResponse
            switch await send(current) {
            case .failure(let error): return .failed(error, url: current)
            case .success(let answer): response = answer
            }
            guard [301, 302, 307, 308].contains(response.status), let location = response.location else {
                return .answered(response, url: current, movedTo: movedTo)
            }
            let next = resolve(location, against: current)
            if current.lowercased().hasPrefix("https:") && !next.lowercased().hasPrefix("https:") {
                return .downgrade(from: current, to: next)
            }
            if response.status == 301 || response.status == 308 { movedTo = next }
            current = next
        }
        return .tooMany
    }

    /// An absolute Location as is; a path resolved against the request's scheme, host and port.
    static func resolve(_ location: String, against url: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let schemeEnd = url.range(of: "://") else { return location }
        let authorityEnd = url[schemeEnd.upperBound...].firstIndex(of: "/") ?? url.endIndex
        return String(url[..<authorityEnd]) + (location.hasPrefix("/") ? location : "/" + location)
    }
}
