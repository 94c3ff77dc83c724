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

    func run() throws {
        let privateKey = try CLIFiles.privateKey(key)
        print(DNSRecordText.line(domain: identity.domain, selector: identity.selector,
                                 record: KeyRecord.text(for: privateKey.publicKey)))
    }
}
