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
        let expected = Data(try CLIFiles.privateKey(key).publicKey.subjectPublicKeyInfo).base64EncodedString()
        let name = KeyLocation.dnsName(domain: identity.domain, selector: identity.selector)
        let records: [String]
        do {
            records = try await DNSResolver(configuration: dns.configuration).txt(name).records
        } catch {
            print("not published: \(error)")
            throw ExitCode(1)
        }
        var verdicts: [String] = []
        for text in records {
            let record: KeyRecord
            do { record = try KeyRecord(parsing: text) } catch {
                verdicts.append("malformed record (\(error)): \(text)")
                continue
            }
            guard record.publicKeyBase64 == expected else {
                verdicts.append(record.publicKeyBase64.isEmpty ? "revoked record (empty p=)" : "a record for a different key")
                continue
            }
            if let rejection = record.rejection(for: .sha256) {
                verdicts.append("this key, but not acceptable: \(rejection)")
                continue
            }
            let bits = (try? record.publicKey().bits).map { "\($0)-bit RSA" } ?? "RSA"
            print("published: \(name) carries this \(bits) key and the record is acceptable")
            return
        }
        print("not published: \(name) has \(records.count) TXT record(s): \(verdicts.joined(separator: "; "))")
        throw ExitCode(1)
    }
}
