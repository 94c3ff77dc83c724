/// Where and how to submit mail.
package struct SMTPConfiguration: Sendable, Equatable {
    /// Whether `smtp://` must upgrade with STARTTLS (`smtps://` is TLS from the first byte).
    package enum StartTLS: Sendable, Equatable { case required, optional }

    /// `smtp://host:port` or `smtps://host:port`.
    package var url: String
    package var startTLS: StartTLS
    package var username: String?
    package var password: String?
    /// PEM CA bundle; nil uses the system store. Certificate verification is always on.
    package var caFile: String?
    package var connectTimeoutMilliseconds: Int
    package var totalTimeoutMilliseconds: Int

    package init(
        url: String, startTLS: StartTLS = .required, username: String? = nil, password: String? = nil,
        caFile: String? = nil, connectTimeoutMilliseconds: Int = 10_000, totalTimeoutMilliseconds: Int = 60_000
    ) {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.caFile = caFile
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
    }
}

/// One message for one envelope: sender, recipients and the raw RFC 5322 bytes (CRLF lines).
package struct MailSubmission: Sendable, Equatable {
    package var sender: String
    package var recipients: [String]
    package var message: [UInt8]

    package init(sender: String, recipients: [String], message: [UInt8]) {
        self.sender = sender
        self.recipients = recipients
        self.message = message
    }
}

/// Why a submission failed. Server answers carry the SMTP reply code and text.
package enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused (4xx: try again later; 5xx: permanent).
    case rejected(code: Int, text: String)
    case authenticationFailed(code: Int, text: String)
    /// STARTTLS required but not offered, or the certificate was not trusted.
    case tls(String)
    case couldNotConnect(String)
    case timeout(String)
    case invalidSubmission(String)
    case cancelled
    case shutDown
    case transfer(code: Int, message: String)

    /// Worth retrying later: connection problems, timeouts and 4xx replies.
    package var isTemporary: Bool {
        switch self {
        case .rejected(let code, _): (400..<500).contains(code)
        case .couldNotConnect, .timeout: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .rejected(let code, let text): "SMTP \(code): \(text)"
        case .authenticationFailed(let code, let text): "SMTP authentication failed (\(code)): \(text)"
        case .tls(let detail): "SMTP TLS failure: \(detail)"
        case .couldNotConnect(let detail): "could not connect to the SMTP server: \(detail)"
        case .timeout(let detail): "SMTP timed out: \(detail)"
        case .invalidSubmission(let detail): "invalid submission: \(detail)"
        case .cancelled: "cancelled"
        case .shutDown: "the mail client is shutting down"
        case .transfer(let code, let message): "SMTP transfer failed (curl \(code)): \(message)"
        }
    }
}
