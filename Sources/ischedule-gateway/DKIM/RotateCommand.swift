import ArgumentParser
import DKIM
import Foundation
import Gateway
import Transport

/// Rotates a domain's signing key in stages, one stage per run: each run does what is due and
/// says what comes next, so it can be run by hand or from a timer until it reports "done".
struct RotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Rotate a domain's DKIM signing key: new key, publish, switch signing, retire the old key.",
        discussion: """
            One stage per run; the state is kept in <keys>/<domain>.rotation.
            1. A new 2048-bit key (--selector, default ischedule<YYYYMMDD>) is
               written beside the signing key, with its owner and mode, and added
               last to the domain's dkim-keys: published, not signing. Prints the
               TXT record to publish.
            2. Once DNS (the configuration's dns.servers, or --dns-server) serves
               that record, the new key moves to the front of dkim-keys: it signs
               after the next reload. The old key stays published for --keep-old.
            3. After --keep-old the old entry is removed and its files move to
               <keys>/retired/. Remove its TXT record then.
            The configuration file is edited in place (only that list's lines;
            owner and mode kept) and checked before it is replaced. Reload the
            gateway after each stage (systemctl reload ischedule-gateway).
            Exit 0 when a stage was done, 75 while waiting (DNS, or the old key's
            time), 1 on error.
            """
    )

    @Option(help: "The domain of ours whose key rotates.")
    var domain: String

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Option(help: "Selector of the new key (stage 1; default ischedule<YYYYMMDD>).")
    var selector: String?

    @Option(name: .customLong("keep-old"), help: "How long the old key stays published after signing switches (stage 2), e.g. 2d, 36h.")
    var keepOld = "2d"

    @OptionGroup var dns: ConfiguredDNSOption

    func validate() throws {
        guard let seconds = DurationText.seconds(keepOld), seconds >= 0 else {
            throw ValidationError("--keep-old '\(keepOld)' is not a duration (e.g. 2d, 36h, 90m)")
        }
        if let selector, !KeyRotation.isSelector(selector) {
            throw ValidationError("--selector '\(selector)' is not a DNS label (letters, digits, hyphens; at most 63)")
        }
    }

    func run() async throws {
        let configuration = try ConfigFile.load(config, requireSecrets: false)
        let resolver = dns.resolver(for: configuration)
        let rotation = try KeyRotation(configuration: configuration, domain: domain.lowercased())
        let report = try await rotation.step(
            newSelector: selector, keepOld: Int64(DurationText.seconds(keepOld) ?? 0),
            now: Int64(Date().timeIntervalSince1970)
        ) { name in
            let answer = try await resolver.txt(name)
            return (answer.records, resolver.configuration.validatesDNSSEC ? answer.secure : nil)
        }
        for line in report.lines { print(line) }
        if report.waiting { throw ExitCode(75) }
    }
}
