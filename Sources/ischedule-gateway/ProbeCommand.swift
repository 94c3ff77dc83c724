import ArgumentParser
import DKIM
import Foundation
import Gateway
import ISchedule
import Transport

/// `ischedule-gateway probe DOMAIN`: would iSchedule to this domain work, and if not, why.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Diagnose iSchedule delivery to a domain: SRV, TLS, capabilities and (with --selector) its DKIM key.",
        discussion: "Exit 0 when a receiver answers with usable capabilities (and the key, if asked for, is acceptable); else 1 with the reason."
    )

    @Argument(help: "The calendar users' domain (the part after @).")
    var domain: String

    @OptionGroup var dns: DNSServerOption

    @Option(name: .customLong("ca-file"), help: "PEM CA bundle to trust (default: the system store).")
    var caFile: String?

    @Option(help: "Also check the DKIM key record at <selector>._domainkey.<domain>.")
    var selector: String?

    @Flag(name: .customLong("allow-private-addresses"), help: "Allow receivers on loopback and private addresses (lab setups).")
    var allowPrivateAddresses = false

    @Option(
        name: .customLong("tls-policy"),
        help: "The tls-policy delivery would follow: verify (https only, the default), may, dane or dane-only (these need --dnssec).")
    var tlsPolicyName = TLSPolicy.verify.rawValue

    func validate() throws {
        guard DNSName.isValidDomain(domain) else { throw ValidationError("'\(domain)' is not a domain name") }
        guard TLSPolicy(rawValue: tlsPolicyName) != nil else {
            throw ValidationError("--tls-policy '\(tlsPolicyName)' is not one of \(TLSPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if TLSPolicy(rawValue: tlsPolicyName)?.usesDANE == true && !dns.dnssec {
            throw ValidationError("--tls-policy \(tlsPolicyName) needs --dnssec (TLSA records count only when validated)")
        }
        if let selector, !DNSName.isValidSelector(selector) { throw ValidationError("--selector '\(selector)' is not a DNS label sequence") }
    }

    func run() async throws {
        let resolver = DNSResolver(configuration: dns.configuration)
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(
                caFile: caFile, connectTimeoutMilliseconds: 5_000,
                totalTimeoutMilliseconds: 15_000),
            resolver: resolver.hostResolver)
        let policy: AddressPolicy = allowPrivateAddresses ? .any : .publicOnly
        print("probe \(domain)")
        var problems: [String] = []

        let tlsPolicy = TLSPolicy(rawValue: tlsPolicyName) ?? .verify
        print("discovery (tls-policy \(tlsPolicy.rawValue)):")
        let candidates: [ReceiverDiscovery.Candidate]
        do {
            switch try await ReceiverDiscovery(resolver: resolver, defaultPolicy: tlsPolicy).locate(domain: domain) {
            case .noISchedule(let reason):
                print("  none: \(reason)")
                return try finish(["no iSchedule receiver: \(reason)"])
            case .receivers(let found):
                candidates = found
                for (index, candidate) in found.enumerated() {
                    let dnssec = dns.dnssec && candidate.srv != nil ? (candidate.secure ? ", DNSSEC-secure" : ", DNSSEC-insecure") : ""
                    print("  try \(index + 1): \(candidate.url)" + (candidate.srv.map { "  (SRV \($0)\(dnssec))" } ?? ""))
                }
            }
        } catch {
            print("  DNS failed: \(error)")
            return try finish(["DNS failed: \(error)"])
        }

        print("tls:")
        let probe = TLSProbe(client: client, resolver: resolver, addressPolicy: policy, tlsPolicy: tlsPolicy, validates: dns.dnssec)
        for candidate in candidates where candidate.url.hasPrefix("https://") { await probe.check(candidate) }
        if !candidates.contains(where: { $0.url.hasPrefix("https://") }) { print("  none: only plain-http receivers are published") }

        print("capabilities:")
        let cache = CapabilitiesCache(client: client, addressPolicy: policy)
        do {
            let (candidate, entry) = try await cache.firstReachable(candidates)
            describe(entry, from: candidate)
            if !entry.capabilities.versions.isEmpty && !entry.capabilities.versions.contains("1.0") {
                problems.append("receiver does not support iSchedule 1.0 (versions: \(entry.capabilities.versions.joined(separator: ", ")))")
            }
        } catch {
            print("  \(error)")
            problems.append("no receiver returned capabilities")
        }

        if let selector { problems += await checkKey(selector: selector, resolver: resolver) }
        try finish(problems)
    }

    private func describe(_ entry: CapabilitiesCache.Entry, from candidate: ReceiverDiscovery.Candidate) {
        let caps = entry.capabilities
        print("  from: \(entry.receiver)" + (entry.receiver == candidate.url ? "" : " (redirected from \(candidate.url))"))
        print("  serial: \(caps.serialNumber ?? "(none)"); versions: \(caps.versions.joined(separator: ", "))")
        for component in caps.schedulingMessages {
            print("  \(component.name): \(component.methods.isEmpty ? "any method" : component.methods.joined(separator: ", "))")
        }
        func number(_ value: Int?) -> String { value.map(String.init) ?? "(none)" }
        print(
            "  max-content-length: \(number(caps.maxContentLength)); max-recipients: \(number(caps.maxRecipients)); "
                + "max-instances: \(number(caps.maxInstances))")
        print("  dates: \(caps.minDateTime ?? "(none)") – \(caps.maxDateTime ?? "(none)"); administrator: \(caps.administrator ?? "(none)")")
    }

    private func checkKey(selector: String, resolver: DNSResolver) async -> [String] {
        let name = KeyLocation.dnsName(domain: domain, selector: selector)
        print("key \(name):")
        let records: [String]
        do {
            let answer = try await resolver.txt(name)
            records = answer.records
            if dns.dnssec { print("  " + (answer.secure ? "DNSSEC-secure" : "DNSSEC-insecure (not validated)")) }
        } catch {
            print("  \(error)")
            return ["no DKIM key record at \(name)"]
        }
        var acceptable = false
        for text in records {
            print("  record: \(text.count > 90 ? String(text.prefix(90)) + "…" : text)")
            guard let record = try? KeyRecord(parsing: text) else {
                print("    malformed")
                continue
            }
            if let rejection = record.rejection(for: .sha256) {
                print("    not acceptable: \(rejection)")
            } else if let key = try? record.publicKey() {
                print("    acceptable: \(key.bits)-bit RSA" + (key.bits < 2048 ? " (below the recommended 2048)" : ""))
                acceptable = true
            } else {
                print("    not acceptable: p= is not an RSA key")
            }
        }
        return acceptable ? [] : ["no acceptable DKIM key record at \(name)"]
    }

    private func finish(_ problems: [String]) throws {
        if problems.isEmpty {
            print("result: iSchedule to \(domain) should work")
            return
        }
        print("result: iSchedule to \(domain) will not work: \(problems.joined(separator: "; "))")
        throw ExitCode(1)
    }
}
