/// HTTP/1.1 and HTTP/2 (ALPN) over TLS with verification always on, on libcurl's multi interface
/// driven by one dedicated thread. `send` suspends without blocking the cooperative pool; task
/// cancellation aborts the transfer; `shutdown` fails whatever is still in flight.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let loop: CurlMultiLoop

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
        self.loop = CurlMultiLoop(maximumConnectionsPerHost: configuration.maximumConnectionsPerHost)
    }

    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let transfer = try CurlTransfer(request, configuration: configuration)
        if Task.isCancelled { throw .cancelled }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.continuation = continuation
                if !loop.submit(transfer) {
                    transfer.continuation = nil
                    continuation.resume(returning: .failure(.shutDown))
                }
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return try result.get()
    }

    /// Fails in-flight transfers with `shutDown` and stops the transfer thread.
    public func shutdown() {
        loop.stop()
    }

    deinit {
        loop.stop()
    }
}
