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
    /// Our https listeners' certificates (port, PEM file): the TLSA records we should publish.
    var certificates: [(port: Int, file: String)] = []

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
                for candidate in found {
                    let dnssec = validates && candidate.srv != nil ? (candidate.secure ? ", DNSSEC-secure" : ", DNSSEC-insecure") : ""
                    text.append("  receiver: \(candidate.url)" + (candidate.srv.map { " (SRV \($0)\(dnssec))" } ?? ""))
                }
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
        text += await tlsaLines(for: candidates.first { $0.url.hasPrefix("https://") })
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
            var secure = ""
            do {
                let answer = try await resolver.txt(name)
                verdict = PublishedKey.judge(answer.records, for: publicKey)
                if validates { secure = answer.secure ? " (DNSSEC-secure)" : " (DNSSEC-insecure)" }
            } catch { verdict = .notPublished("\(error)") }
            switch verdict {
            case .published: text.append("  key \(key.selector) (\(role)): \(name) published\(secure)")
            case .notPublished(let why):
                text.append("  key \(key.selector) (\(role)): \(name) not published (\(why))")
                if key.signs { problems.append("the signing key's record is not published") }
            }
        }
        if certificates.isEmpty {
            text.append(
                "  listener: no https listener in this configuration (fine behind a TLS proxy; else uncomment the one init wrote once its certificate exists)"
            )
        }
        let head = problems.isEmpty ? "\(domain): ok" : "\(domain): PROBLEM: \(problems.joined(separator: "; "))"
        return ([head] + text, problems.isEmpty)
    }

    private var validates: Bool { resolver.configuration.validatesDNSSEC }

    /// The TLSA record each https listener's certificate calls for (`3 1 1`), where to publish
    /// it (the first https receiver's SRV target and port), and what is published there.
    private func tlsaLines(for receiver: ReceiverDiscovery.Candidate?) async -> [String] {
        let wanted = certificates.compactMap { listener -> (port: Int, record: TLSARecord)? in
            guard let pem = FileManager.default.contents(atPath: listener.file) else { return nil }
            return TLSARecord.daneEE(certificatePEM: Array(pem)).map { (listener.port, $0) }
        }
        guard !wanted.isEmpty else { return [] }
        guard let receiver, let (host, port) = DANERequirement.base(of: receiver.url) else {
            return wanted.map { "  tlsa: listener :\($0.port) certificate: \($0.record) (no https receiver published to put it under)" }
        }
        let name = "_\(port)._tcp.\(host)"
        var published: [TLSARecord] = []
        var state = "none published"
        do {
            let answer = try await resolver.tlsa(name)
            published = answer.records
            state = "\(answer.records.count) published" + (validates ? (answer.secure ? ", DNSSEC-secure" : ", DNSSEC-insecure") : "")
        } catch {
            if !error.meansNoRecords { state = "lookup failed: \(error)" }
        }
        return wanted.map { listener in
            let found = published.contains(listener.record) ? "published" : "not published"
            return "  tlsa: listener :\(listener.port) certificate: \(name). IN TLSA \(listener.record) (\(found); \(state))"
        }
    }
}
