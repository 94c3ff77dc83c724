import DKIM
import Foundation
import Gateway
import Transport

/// One of our domains as a remote sender finds it: the receiver its SRV records name, that
/// receiver's TLS certificate and capabilities, and the TXT record of each of its keys.
struct LocalDomainView {
    let domain: String
    let keys: [GatewayConfiguration.ConfiguredKey]
    let resolver: DNSResolver
    let client: HTTPClient
    let policy: AddressPolicy

    /// The lines to print (the domain's first, then one per finding), and whether all is well.
    func lines() async -> (text: [String], healthy: Bool) {
        var text: [String] = []
        var problems: [String] = []
        let candidates: [ReceiverDiscovery.Candidate]
        do {
            switch try await ReceiverDiscovery(resolver: resolver).locate(domain: domain) {
            case .noISchedule(let reason):
                candidates = []
                problems.append("no iSchedule receiver published: \(reason)")
            case .receivers(let found):
                candidates = found
                for candidate in found { text.append("  receiver: \(candidate.url)" + (candidate.srv.map { " (SRV \($0))" } ?? "")) }
            }
        } catch {
            candidates = []
            problems.append("DNS: \(error)")
        }
        if let secure = candidates.first(where: { $0.url.hasPrefix("https://") }) {
            var request = HTTPClientRequest(url: secure.url + "?action=capabilities", addressPolicy: policy)
            request.collectsCertificates = true
            do {
                let response = try await client.send(request)
                text.append("  tls: verified" + (response.certificates.first?["Expire date"].map { "; certificate expires \($0)" } ?? ""))
            } catch {
                problems.append("TLS to \(secure.url): \(error)")
            }
        } else if !candidates.isEmpty {
            text.append("  tls: none (only plain-http receivers are published)")
        }
        if !candidates.isEmpty {
            do {
                let (_, entry) = try await CapabilitiesCache(client: client, addressPolicy: policy).firstReachable(candidates)
                text.append(
                    "  capabilities: serial \(entry.capabilities.serialNumber ?? "(none)"), versions \(entry.capabilities.versions.joined(separator: ", ")) from \(entry.receiver)"
                )
            } catch {
                problems.append("capabilities: \(error)")
            }
        }
        for key in keys {
            let name = KeyLocation.dnsName(domain: domain, selector: key.selector)
            let role = key.signs ? "signs" : "published"
            guard let publicKey = try? RSAPrivateKey(pem: String(contentsOfFile: key.file, encoding: .utf8)).publicKey else {
                if key.signs { problems.append("key \(key.selector): unreadable file \(key.file)") }
                text.append("  key \(key.selector) (\(role)): unreadable file \(key.file)")
                continue
            }
            let verdict: PublishedKey.Verdict
            do { verdict = PublishedKey.judge(try await resolver.txt(name).records, for: publicKey) } catch { verdict = .notPublished("\(error)") }
            switch verdict {
            case .published: text.append("  key \(key.selector) (\(role)): \(name) published")
            case .notPublished(let why):
                text.append("  key \(key.selector) (\(role)): \(name) not published (\(why))")
                if key.signs { problems.append("the signing key's record is not published") }
            }
        }
        let head = problems.isEmpty ? "\(domain): ok" : "\(domain): PROBLEM: \(problems.joined(separator: "; "))"
        return ([head] + text, problems.isEmpty)
    }
}
