/// SMTP submission through libcurl on the shared curl thread: STARTTLS required or optional,
/// `smtps://`, AUTH with a configured user, several recipients, the raw message as given.
package final class SMTPClient: Sendable {
    package let configuration: SMTPConfiguration
    private let thread: CurlThread
    private let resolver: any HostAddressResolver

    /// - Parameter resolver: how the server's name becomes addresses (pinned for libcurl).
    package init(configuration: SMTPConfiguration, thread: CurlThread, resolver: any HostAddressResolver = SystemHostResolver.shared) {
        self.configuration = configuration
        self.thread = thread
        self.resolver = resolver
    }

    package func send(_ submission: MailSubmission) async throws(SMTPError) {
        guard !submission.recipients.isEmpty else { throw .invalidSubmission("no recipients") }
        for address in [submission.sender] + submission.recipients where !Self.isCommandSafe(address) {
            throw .invalidSubmission("address '\(address)' contains <, >, a control character, or a blank outside a quoted local part")
        }
        guard configuration.url.hasPrefix("smtp://") || configuration.url.hasPrefix("smtps://") else {
            throw .invalidSubmission("SMTP URL must be smtp:// or smtps://: \(configuration.url)")
        }
        let pinned = await Result(awaiting: { () async throws(HTTPClientError) -> String? in
            try await ConnectionPinning.pin(configuration.url, policy: .any, resolver: resolver)
        })
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

    /// Whether an address can go into `MAIL FROM:<…>`/`RCPT TO:<…>` as it is: no angle brackets or
    /// control characters, and blanks only inside a quoted local part (`"john doe"@example.com`).
    static func isCommandSafe(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else { return false }
        guard bytes.contains(0x20) else { return true }
        guard bytes.first == UInt8(ascii: "\""), let close = bytes.dropFirst().firstIndex(of: UInt8(ascii: "\"")) else { return false }
        return !bytes[(close + 1)...].contains(0x20)
    }
}
