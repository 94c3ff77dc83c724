import ArgumentParser
import DKIM
import Foundation
import Transport

/// Prints the DNS TXT record for an existing private key.
struct TXTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txt",
        abstract: "Print the DNS TXT record that publishes a private key's public half (and, with --certificate, the receiver's TLSA record).",
        discussion:
            "The TLSA record is DANE-EE 3 1 1 (the SHA-256 of the certificate's public key): it stays valid across renewals that keep the key."
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

    @Option(help: "An https listener's certificate (PEM): also print its TLSA record.")
    var certificate: String?

    @Option(help: "The receiver's host name (the SRV target) the TLSA record is published under.")
    var host: String?

    @Option(help: "The receiver's port (the SRV port).")
    var port: Int = 443

    func validate() throws {
        guard certificate == nil || host != nil else { throw ValidationError("--certificate needs --host (the SRV target the TLSA record is for)") }
        if let host, !DNSName.isValidDomain(host) { throw ValidationError("--host '\(host)' is not a host name") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port \(port) is not a port") }
    }

    func run() throws {
        let privateKey = try CLIFiles.privateKey(key)
        let record = KeyRecord.text(for: privateKey.publicKey, forDraft01Peers: draft01)
        print(recordOnly ? record : DNSRecordText.line(domain: identity.domain, selector: identity.selector, record: record))
        if let certificate, let host {
            guard let pem = FileManager.default.contents(atPath: certificate), let tlsa = TLSARecord.daneEE(certificatePEM: Array(pem)) else {
                throw ValidationError("\(certificate): no readable PEM certificate")
            }
            print("_\(port)._tcp.\(host.hasSuffix(".") ? String(host.dropLast()) : host). IN TLSA \(tlsa)")
        }
    }
}
