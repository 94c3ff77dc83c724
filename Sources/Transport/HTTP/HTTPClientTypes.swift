package import DKIM

/// How the HTTP client behaves for every request.
package struct HTTPClientConfiguration: Sendable, Equatable {
    /// PEM bundle of trusted CAs; nil uses the system store. Verification is always on.
    package var caFile: String?
    package var connectTimeoutMilliseconds: Int
    package var totalTimeoutMilliseconds: Int
    /// Responses larger than this are aborted with `responseTooLarge`.
    package var maximumResponseBytes: Int
    package var userAgent: String
    /// Parallel connections to one host; further transfers wait for a free one.
    package var maximumConnectionsPerHost: Int

    package init(
        caFile: String? = nil, connectTimeoutMilliseconds: Int = 10_000, totalTimeoutMilliseconds: Int = 30_000,
        maximumResponseBytes: Int = 4 * 1024 * 1024, userAgent: String = "ischedule-gateway",
        maximumConnectionsPerHost: Int = 16
    ) {
        self.maximumConnectionsPerHost = maximumConnectionsPerHost
        self.caFile = caFile
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
        self.maximumResponseBytes = maximumResponseBytes
        self.userAgent = userAgent
    }
}

/// One HTTP request. Redirects are never followed by the client: a 3xx comes back as a response
/// (the iSchedule sender re-signs every hop).
package struct HTTPClientRequest: Sendable, Equatable {
    package var method: String
    package var url: String
    package var headers: [HeaderField]
    package var body: [UInt8]
    /// Overrides the configuration's total timeout for this request.
    package var timeoutMilliseconds: Int?
    /// Which addresses the connection may use (checked on the address actually connected to).
    package var addressPolicy: AddressPolicy
    /// Report the peer's certificate chain in the response (diagnostics such as `probe`).
    package var collectsCertificates = false
    /// A TLS client certificate to present (the TLS-only authentication profile).
    package var clientCertificate: ClientCertificate?
    /// Verify the server by these TLSA records instead of the WebPKI roots; the URL must name
    /// their host and port.
    package var dane: DANERequirement?

    package init(
        method: String = "GET", url: String, headers: [HeaderField] = [], body: [UInt8] = [],
        timeoutMilliseconds: Int? = nil, addressPolicy: AddressPolicy = .publicOnly
    ) {
        self.addressPolicy = addressPolicy
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.addressPolicy == rhs.addressPolicy && lhs.body == rhs.body
            && lhs.timeoutMilliseconds == rhs.timeoutMilliseconds && lhs.headers == rhs.headers
            && lhs.clientCertificate == rhs.clientCertificate && lhs.dane == rhs.dane
    }
}

/// A TLS client certificate: PEM files of the chain and its private key.
package struct ClientCertificate: Sendable, Equatable {
    package var certificateFile: String
    package var privateKeyFile: String

    package init(certificateFile: String, privateKeyFile: String) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
    }
}

/// A complete response: status, the final response's header fields in order, body.
package struct HTTPClientResponse: Sendable {
    package let status: Int
    package let headers: [HeaderField]
    package let body: [UInt8]
    /// "1.1" or "2".
    package let httpVersion: String
    /// With `collectsCertificates`: each certificate of the peer's chain as libcurl describes it
    /// ("Subject", "Issuer", "Expire date", … → value), leaf first.
    package let certificates: [[String: String]]

    /// Values of every header called `name` (case-insensitive).
    package func values(_ name: String) -> [String] { headers.values(named: name) }

    /// Where a 3xx response points, if anywhere.
    package var location: String? { (300..<400).contains(status) ? values("Location").first : nil }
}

/// Why a request produced no response.
package enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing accepted the connection (refused or unreachable): a retry-worthy "pending" case.
    case couldNotConnect(String)
    case couldNotResolve(String)
    case timeout(String)
    /// Certificate not trusted, expired, wrong name, or the handshake failed.
    case tls(String)
    /// The server's certificate matched none of the validated TLSA records it must match.
    case daneMismatch(String)
    case responseTooLarge(limit: Int)
    /// The peer's address is not allowed by the request's `AddressPolicy` (SSRF protection).
    case addressNotAllowed(String)
    case invalidRequest(String)
    case cancelled
    case shutDown
    case transfer(code: Int, message: String)

    package var description: String {
        switch self {
        case .couldNotConnect(let detail): "could not connect: \(detail)"
        case .couldNotResolve(let detail): "could not resolve host: \(detail)"
        case .timeout(let detail): "timed out: \(detail)"
        case .tls(let detail): "TLS failure: \(detail)"
        case .daneMismatch(let detail): "DANE failure: \(detail)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .addressNotAllowed(let reason): "refused to connect: \(reason)"
        case .invalidRequest(let detail): "invalid request: \(detail)"
        case .cancelled: "cancelled"
        case .shutDown: "the HTTP client is shutting down"
        case .transfer(let code, let message): "transfer failed (curl \(code)): \(message)"
        }
    }
}
