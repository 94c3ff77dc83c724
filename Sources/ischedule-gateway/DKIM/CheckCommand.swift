import ArgumentParser
import DKIM
import Foundation
import Transport

/// Says whether DNS publishes the public half of a private key, acceptably for iSchedule.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that DNS publishes the public half of a private key at <selector>._domainkey.<domain>.",
        discussion: """
            Exit 0 when a TXT record there carries this key and is acceptable to iSchedule verifiers
            (v=DKIM1 or absent, k=rsa, h= allowing sha256, s= ischedule or *); otherwise exit 1 with
            what was found.
            """
    )

    @OptionGroup var identity: SigningIdentityOptions

    @Option(help: "Private key PEM (PKCS#1 or PKCS#8).")
    var key: String

    @OptionGroup var dns: DNSServerOption

    func run() async throws {
        let publicKey = try CLIFiles.privateKey(key).publicKey
        let name = KeyLocation.dnsName(domain: identity.domain, selector: identity.selector)
        let records: [String]
        var secure = ""
        do {
            let answer = try await DNSResolver(configuration: dns.configuration).txt(name)
            records = answer.records
            if dns.dnssec { secure = answer.secure ? " (DNSSEC-secure)" : " (not DNSSEC-secure)" }
        } catch {
            print("not published: \(error)")
            throw ExitCode(1)
        }
        switch PublishedKey.judge(records, for: publicKey) {
        case .published(let bits):
            print("published: \(name) carries this \(bits.map { "\($0)-bit RSA" } ?? "RSA") key and the record is acceptable\(secure)")
        case .notPublished(let findings):
            print("not published: \(name) has \(findings)")
            throw ExitCode(1)
        }
    }
}
