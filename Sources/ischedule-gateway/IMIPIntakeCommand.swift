import ArgumentParser
import Foundation
import Gateway
import Logging

/// `ischedule-gateway imip-intake -f SENDER -- RECIPIENT…`: the mail filter between an MTA and
/// the CalDAV servers that only send e-mail. Reads one message on standard input.
struct IMIPIntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imip-intake",
        abstract: "Mail filter: send the iTIP invitations in one e-mail (standard input) by iSchedule where the recipient's domain has it.",
        discussion: """
            For Postfix's pipe(8) or Exim's pipe transport. When the message carries an iTIP object
            (text/calendar with a METHOD) whose organizer (or replying attendee) is in one of our
            domains, and the envelope sender is that organizer (or attendee) or one of
            imip-intake.trusted-senders (never the null sender), each envelope recipient whose
            domain publishes iSchedule (or whose DNS cannot tell now) is queued durably here and
            delivered, signed, by the running gateway; one iSchedule does not deliver gets this
            e-mail after all (re-injected), or its sender a bounce. Every other recipient, and every
            other message, goes back to the MTA unchanged through imip-intake.reinject-url; a
            recipient the MTA refuses there is bounced by us when others of the message are ours.
            Each (message, recipient) is queued once, whatever batches the MTA delivers it in.
            Exit status (sysexits): 0 done; 75 try again later (the store or the re-injection did
            not answer; what was queued is not queued twice); 69 the re-injection refused every
            recipient and nothing is ours (the MTA bounces); 78 the configuration is wrong. Nothing
            is written on success; decisions go to the mail log (syslog, facility mail), and every
            failure is one line on standard error.
            """
    )

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Option(name: .customShort("f"), help: "Envelope sender (Postfix: ${sender}; empty for a bounce).")
    var sender: String

    @Argument(help: "Envelope recipients (Postfix: ${recipient}), after --.")
    var recipients: [String] = []

    func run() async throws {
        let configuration: GatewayConfiguration
        do { configuration = try ConfigFile.load(config, envFile: nil, requireSecrets: false) } catch {
            FileHandle.standardError.write(Data("imip-intake: configuration: \(error)\n".utf8))
            throw ExitCode(MailFilter.configurationError)
        }
        if let stop = MailFilter.precondition(configuration, recipients: recipients) {
            FileHandle.standardError.write(Data((stop.message + "\n").utf8))
            throw ExitCode(stop.status)
        }
        // Far above an MTA's usual size limit (Postfix: 10 MB); a larger message is refused, not cut.
        let limit = 64 << 20
        let message = FileHandle.standardInput.readData(ofLength: limit + 1)
        guard message.count <= limit else {
            FileHandle.standardError.write(Data("imip-intake: message larger than 64 MiB\n".utf8))
            throw ExitCode(MailFilter.unavailable)
        }
        // Its decisions (a message handed back, and why) go to the mail log, and to standard error,
        // which the MTA reports when the filter fails.
        var logger = Logger(label: "ischedule-gateway") { label in
            MultiplexLogHandler([SyslogLogHandler(identifier: "ischedule-gateway/imip-intake"), StreamLogHandler.standardError(label: label)])
        }
        logger.logLevel = .notice
        let result = await MailFilter.run(configuration, sender: sender, recipients: recipients, message: Array(message), logger: logger)
        guard result.status == MailFilter.ok else {
            FileHandle.standardError.write(Data((result.message + "\n").utf8))
            throw ExitCode(result.status)
        }
    }
}
