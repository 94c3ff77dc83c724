/// HTTP/1.1 and HTTP/2 (ALPN) over TLS with verification always on, on libcurl's multi interface
/// driven by one dedicated thread. `send` suspends without blocking the cooperative pool; task
/// cancellation aborts the transfer; `shutdown` fails whatever is still in flight.
/// Host names are resolved by `resolver` and the addresses the request's policy allows are pinned
/// for libcurl; the policy is checked again before any socket opens.
package final class HTTPClient: Sendable {
    package let configuration: HTTPClientConfiguration
    private let thread: CurlThread
    private let resolver: any HostAddressResolver

    /// - Parameters:
    ///   - thread: the curl thread to share (with SMTP, say); a new one when nil.
    ///   - resolver: how host names become addresses (`DNSResolver.hostResolver`); the system's by default.
    package init(
        configuration: HTTPClientConfiguration = HTTPClientConfiguration(), thread: CurlThread? = nil,
        resolver: any HostAddressResolver = SystemHostResolver.shared
    ) {
        self.configuration = configuration
        self.thread = thread ?? CurlThread(maximumConnectionsPerHost: configuration.maximumConnectionsPerHost)
        self.resolver = resolver
    }

    private var loop: CurlMultiLoop { thread.loop }

    package func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let pinned = try await ConnectionPinning.pin(request.url, policy: request.addressPolicy, resolver: resolver)
        let transfer = try CurlTransfer(request, configuration: configuration, pinnedAddresses: pinned)
        return try await loop.perform(transfer) { transfer.httpResult($0) }.get()
    }

    /// Fails in-flight transfers with `shutDown` and stops the transfer thread (shared users too).
    package func shutdown() {
        thread.shutdown()
    }
}
