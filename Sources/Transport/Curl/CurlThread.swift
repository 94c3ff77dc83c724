/// The one thread that runs libcurl for the gateway; HTTP and SMTP clients share it.
public final class CurlThread: Sendable {
    let loop: CurlMultiLoop

    /// - Parameter maximumConnectionsPerHost: parallel connections to one host; more transfers wait.
    public init(maximumConnectionsPerHost: Int = 16) {
        loop = CurlMultiLoop(maximumConnectionsPerHost: maximumConnectionsPerHost)
    }

    /// Fails in-flight transfers with a shutdown error and ends the thread.
    public func shutdown() {
        loop.stop()
    }

    deinit {
        loop.stop()
    }
}
