/// SMTP submission through libcurl on the shared curl thread: STARTTLS required or optional,
/// `smtps://`, AUTH with a configured user, several recipients, the raw message as given.
public final class SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    private let thread: CurlThread

    public init(configuration: SMTPConfiguration, thread: CurlThread) {
        self.configuration = configuration
        self.thread = thread
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
        let transfer: CurlTransfer
        do { transfer = try CurlTransfer(submission, configuration: configuration) } catch {
            throw .transfer(code: -1, message: error.description)
        }
        try await thread.loop.perform(transfer) { transfer.smtpResult($0) }.get()
    }
}
