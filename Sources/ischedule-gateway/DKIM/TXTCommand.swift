import ArgumentParser
import DKIM

/// Prints the DNS TXT record for an existing private key.
struct TXTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txt",
        abstract: "Print the DNS TXT record that publishes a private key's public half."
    )

    @Option(help: "Private key PEM (PKCS#1 or PKCS#8).")
    var key: String

    @OptionGroup var identity: SigningIdentityOptions

    @Flag(help: "Print only the record value (for a private-exchange file or /.well-known/domainkey), not the zone-file line.")
    var recordOnly = false

    @Flag(
        name: .customLong("draft-01"),
        help: "Publish with s=* instead of s=ischedule, so that draft-01 peers (DAViCal) accept the key too.")
    var draft01 = false

    func run() throws {
        let privateKey = try CLIFiles.privateKey(key)
        let record = KeyRecord.text(for: privateKey.publicKey, forDraft01Peers: draft01)
        print(recordOnly ? record : DNSRecordText.line(domain: identity.domain, selector: identity.selector, record: record))
    }
}
