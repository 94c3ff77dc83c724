import ArgumentParser
import DKIM
import Foundation
import Gateway
import Transport

/// Every domain's keys and what DNS publishes for them, in one look.
struct KeyStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every domain's keys, their role, whether DNS publishes them, and any rotation in progress.",
        discussion: """
            One block per domain of the configuration: each key's selector, role (signs or
            published), size and file, and what its TXT record <selector>._domainkey.<domain>
            says (looked up through dns.servers, or --dns-server). Exit 1 when a signing key is
            unreadable or not published acceptably.
            """
    )

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @OptionGroup var dns: ConfiguredDNSOption

    func run() async throws {
        let configuration = try ConfigFile.load(config, requireSecrets: false)
        let resolver = dns.resolver(for: configuration)
        var healthy = true
        for domain in configuration.localDomainNames {
            print(domain)
            for key in configuration.keys(of: domain) ?? [] {
                let role = key.signs ? "signs" : "published"
                let name = KeyLocation.dnsName(domain: domain, selector: key.selector)
                guard let privateKey = try? CLIFiles.privateKey(key.file) else {
                    print("  \(key.selector)\t\(role)\tunreadable key file \(key.file)")
                    if key.signs { healthy = false }
                    continue
                }
                let dns: String
                switch await Self.verdict(name, publicKey: privateKey.publicKey, resolver: resolver) {
                case .published: dns = "DNS: published"
                case .notPublished(let why):
                    dns = "DNS: not published (\(why))"
                    if key.signs { healthy = false }
                }
                print("  \(key.selector)\t\(role)\t\(privateKey.publicKey.bits)-bit\t\(dns)\t\(key.file)")
            }
            if let rotation = KeyRotation.progress(configuration: configuration, domain: domain) { print("  rotation: \(rotation)") }
        }
        if !healthy { throw ExitCode(1) }
    }

    private static func verdict(_ name: String, publicKey: RSAPublicKey, resolver: DNSResolver) async -> PublishedKey.Verdict {
        do { return PublishedKey.judge(try await resolver.txt(name).records, for: publicKey) } catch {
            return .notPublished("\(error)")
        }
    }
}
