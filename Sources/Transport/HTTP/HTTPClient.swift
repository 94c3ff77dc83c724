/// HTTP/1.1 and HTTP/2 (ALPN) over TLS with verification always on, on libcurl's multi interface
/// driven by one dedicated thread. `send` suspends without blocking the cooperative pool; task
/// cancellation aborts the transfer; `shutdown` fails whatever is still in flight.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let thread: CurlThread

    /// - Parameter thread: the curl thread to share (with SMTP, say); a new one when nil.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), thread: CurlThread? = nil) {
        self.configuration = configuration
        self.thread = thread ?? CurlThread(maximumConnectionsPerHost: configuration.maximumConnectionsPerHost)
    }

    private var loop: CurlMultiLoop { thread.loop }

    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let transfer = try CurlTransfer(request, configuration: configuration)
        return try await loop.perform(transfer) { transfer.httpResult($0) }.get()
    }

    /// Fails in-flight transfers with `shutDown` and stops the transfer thread (shared users too).
    public func shutdown() {
        thread.shutdown()
    }
}
