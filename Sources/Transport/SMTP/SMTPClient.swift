/// SMTP submission through libcurl on the shared curl thread: STARTTLS required or optional,
/// `smtps://`, AUTH with a configured user, several recipients, the raw message as given.
public final class SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    private let thread: CurlThread
    private let resolver: any HostAddressResolver

    /// - Parameter resolver: how the server's name becomes addresses (pinned for libcurl).
    public init(configuration: SMTPConfiguration, thread: CurlThread, resolver: any HostAddressResolver = SystemHostResolver.shared) {
        self.configuration = configuration
        self.thread = thread
        self.resolver = resolver
    }

    public func send(_ submission: MailSubmission) async throws(SMTPError) {
        guard !submission.recipients.isEmpty else { throw .invalidSubmission("no recipients") }
        for address in [submission.sender] + submission.recipients
            where address.contains(where: { $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" || $0 == " " }) {
            throw .invalidSubmission("address '\(address)' contains <, >, a blank or a line break")
        }
        guard configuration.url.hasPrefix("smtp://") || configuration.url.hasPrefix("smtps://") else {
            throw .invalidSubmission("SMTP URL must be smtp:// or smtps://: \(configuration.url)")
        }
        let pinned: Result<String?, HTTPClientError>
        do throws(HTTPClientError) {
            pinned = .success(try await ConnectionPinning.pin(configuration.url, policy: .any, resolver: resolver))
        } catch {
            pinned = .failure(error)
        }
        let transfer: CurlTransfer
        switch pinned {
        case .failure(.couldNotResolve(let detail)): throw .couldNotConnect("could not resolve host: \(detail)")
        case .failure(let error): throw .transfer(code: -1, message: error.description)
        case .success(let addresses):
            do { transfer = try CurlTransfer(submission, configuration: configuration, pinnedAddresses: addresses) } catch {
                throw .transfer(code: -1, message: error.description)
            }
        }
        try await thread.loop.perform(transfer) { transfer.smtpResult($0) }.get()
    }
}
