package import Logging
internal import Transport

/// `imip-intake` as a command runs it: the configured pieces around `IMIPIntake`, and the answer
/// as an exit status by sysexits(3), which Postfix's `pipe(8)` and Exim's pipe transport read.
package enum MailFilter {
    /// The exit status and the line for the MTA's log (and a bounce).
    package struct Result: Sendable, Equatable {
        package let status: Int32
        package let message: String
    }

    package static let ok: Int32 = 0, unavailable: Int32 = 69, temporaryFailure: Int32 = 75, configurationError: Int32 = 78

    /// What stops the filter before it reads the message, if anything.
    package static func precondition(_ configuration: GatewayConfiguration, recipients: [String]) -> Result? {
        if configuration.imipIntake == nil {
            return Result(status: configurationError, message: "imip-intake: the configuration has no imip-intake section (reinject-url)")
        }
        if recipients.isEmpty { return Result(status: configurationError, message: "imip-intake: no recipients after --") }
        if let variable = configuration.imipIntake?.organizerCalendars?.unsetPasswordVariable {
            return Result(
                status: configurationError,
                message: "imip-intake: imip-intake.organizer-calendars.password-env: \(variable) is not set in the filter's environment "
                    + "(the MTA's pipe passes none): give the password as password-file, readable by the gateway's user")
        }
        return nil
    }

    package static func run(
        _ configuration: GatewayConfiguration, sender: String, recipients: [String], message: [UInt8],
        logger: Logger
    ) async -> Result {
        if let stop = precondition(configuration, recipients: recipients) { return stop }
        guard let settings = configuration.imipIntake else { return Result(status: configurationError, message: "imip-intake: no section") }
        let curl = CurlThread()
        defer { curl.shutdown() }
        let clients = NetworkClients(configuration: configuration, curl: curl, clock: .system)
        let discovery = clients.discovery
        let reinjection = settings.client(configuration, curl: curl, resolver: clients.resolver)
        let outcome: IMIPIntake.Outcome
        do {
            outcome = try await StateStores.withQueue(configuration, logger: logger) { queue in
                await IMIPIntake(
                    signingDomains: configuration.signingDomains,
                    localDomains: Set(configuration.domains.map(\.name)), trustedSenders: settings.trustedSenders,
                    inferRequestsFrom: settings.inferRequestsFrom,
                    organizerCopies: settings.organizerCalendars.map {
                        CalDAVOrganizerCopies(account: $0, client: clients.http(timeout: configuration.timeouts.remoteRequest))
                    },
                    discovery: discovery, queue: queue,
                    reinjection: reinjection, reportingHost: GatewayIdentity.hostName, clock: .system, logger: logger
                )
                .process(message, envelope: .init(sender: sender, recipients: recipients))
            }
        } catch {
            outcome = .temporaryFailure("the store could not be opened: \(error)")
        }
        switch outcome {
        case .done(let scheduled, let mailed, let bounced):
            return Result(status: ok, message: "imip-intake: \(scheduled.count) by iSchedule, \(mailed.count) by e-mail, \(bounced.count) bounced")
        case .temporaryFailure(let reason): return Result(status: temporaryFailure, message: "imip-intake: \(reason)")
        case .refused(let reason): return Result(status: unavailable, message: "imip-intake: \(reason)")
        }
    }
}
