public import DKIM

/// How the HTTP client behaves for every request.
public struct HTTPClientConfiguration: Sendable, Equatable {
    /// PEM bundle of trusted CAs; nil uses the system store. Verification is always on.
    public var caFile: String?
    public var connectTimeoutMilliseconds: Int
    public var totalTimeoutMilliseconds: Int
    /// Responses larger than this are aborted with `responseTooLarge`.
    public var maximumResponseBytes: Int
    public var userAgent: String
    /// Parallel connections to one host; further transfers wait for a free one.
    public var maximumConnectionsPerHost: Int

    public init(
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
public struct HTTPClientRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [HeaderField]
    public var body: [UInt8]
    /// Overrides the configuration's total timeout for this request.
    public var timeoutMilliseconds: Int?
    /// Which addresses the connection may use (checked on the address actually connected to).
    public var addressPolicy: AddressPolicy
    /// Report the peer's certificate chain in the response (diagnostics such as `probe`).
    public var collectsCertificates = false
    /// A TLS client certificate to present (the TLS-only authentication profile).
    public var clientCertificate: ClientCertificate?

    public init(
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

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.addressPolicy == rhs.addressPolicy && lhs.body == rhs.body
            && lhs.timeoutMilliseconds == rhs.timeoutMilliseconds && lhs.headers == rhs.headers
            && lhs.clientCertificate == rhs.clientCertificate
    }
}

/// A TLS client certificate: PEM files of the chain and its private key.
public struct ClientCertificate: Sendable, Equatable {
    public var certificateFile: String
    public var privateKeyFile: String

    public init(certificateFile: String, privateKeyFile: String) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
    }
}

/// A complete response: status, the final response's header fields in order, body.
public struct HTTPClientResponse: Sendable {
    public let status: Int
    public let headers: [HeaderField]
    public let body: [UInt8]
    /// "1.1" or "2".
    public let httpVersion: String
    /// With `collectsCertificates`: each certificate of the peer's chain as libcurl describes it
    /// ("Subject", "Issuer", "Expire date", … → value), leaf first.
    public let certificates: [[String: String]]

    /// Values of every header called `name` (case-insensitive).
    public func values(_ name: String) -> [String] { headers.values(named: name) }

    /// Where a 3xx response points, if anywhere.
    public var location: String? { (300..<400).contains(status) ? values("Location").first : nil }
}

/// Why a request produced no response.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing accepted the connection (refused or unreachable): a retry-worthy "pending" case.
    case couldNotConnect(String)
    case couldNotResolve(String)
    case timeout(String)
    /// Certificate not trusted, expired, wrong name, or the handshake failed.
    case tls(String)
    case responseTooLarge(limit: Int)
    /// The peer's address is not allowed by the request's `AddressPolicy` (SSRF protection).
    case addressNotAllowed(String)
    case invalidRequest(String)
    case cancelled
    case shutDown
    case transfer(code: Int, message: String)

    public var description: String {
        switch self {
        case .couldNotConnect(let detail): "could not connect: \(detail)"
        case .couldNotResolve(let detail): "could not resolve host: \(detail)"
        case .timeout(let detail): "timed out: \(detail)"
        case .tls(let detail): "TLS failure: \(detail)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .addressNotAllowed(let reason): "refused to connect: \(reason)"
        case .invalidRequest(let detail): "invalid request: \(detail)"
        case .cancelled: "cancelled"
        case .shutDown: "the HTTP client is shutting down"
        case .transfer(let code, let message): "transfer failed (curl \(code)): \(message)"
        }
    }
}
