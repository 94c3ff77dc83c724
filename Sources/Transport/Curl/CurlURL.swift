internal import CCurl

/// Where a URL makes libcurl connect, read with libcurl's own URL parser: the host as libcurl
/// normalises it (numeric IPv4 forms such as `2130706433`, `0177.0.0.1`, `0x7f000001` and `127.1`
/// become `127.0.0.1`; IPv6 literals lose their brackets) and the port, the scheme's default when
/// none is given. What the address policy checks is therefore what libcurl will dial.
struct CurlURL: Sendable, Equatable {
    let scheme: String
    let host: String
    let port: Int
    /// The host is an address literal: nothing to resolve.
    let isAddressLiteral: Bool

    init(_ url: String) throws(HTTPClientError) {
        guard let handle = curl_url() else { throw .invalidRequest("out of memory parsing \(url)") }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else { throw .invalidRequest("not a URL: \(url)") }
        func part(_ which: CURLUPart, flags: UInt32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let scheme = part(CURLUPART_SCHEME), let rawHost = part(CURLUPART_HOST),
            let port = part(CURLUPART_PORT, flags: UInt32(CURLU_DEFAULT_PORT)).flatMap({ Int($0) })
        else { throw .invalidRequest("URL without host or port: \(url)") }
        let bracketed = rawHost.hasPrefix("[") && rawHost.hasSuffix("]")
        self.scheme = scheme.lowercased()
        self.host = bracketed ? String(rawHost.dropFirst().dropLast()) : rawHost.lowercased()
        self.port = port
        isAddressLiteral = AddressClass.classify(host) != nil
    }

    /// A `CURLOPT_RESOLVE` entry pinning `host:port` to `addresses` (IPv6 in brackets).
    func resolveEntry(_ addresses: [String]) -> String {
        let list = addresses.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
        return "\(host):\(port):\(list)"
    }
}
