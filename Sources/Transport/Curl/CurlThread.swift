/// The one thread that runs libcurl for the gateway; HTTP and SMTP clients share it.
package final class CurlThread: Sendable {
    let loop: CurlMultiLoop

    /// - Parameter maximumConnectionsPerHost: parallel connections to one host; more transfers wait.
    package init(maximumConnectionsPerHost: Int = 16) {
        loop = CurlMultiLoop(maximumConnectionsPerHost: maximumConnectionsPerHost)
    }

    /// Fails in-flight transfers with a shutdown error and ends the thread.
    package func shutdown() {
        loop.stop()
    }

    deinit {
        loop.stop()
    }
}
