package import DKIM
import Transport

/// The parts of a configuration the administration tools (`dkim rotate`, `dkim status`,
/// `status`) read.
extension GatewayConfiguration {
    /// One of our signing keys as configured; the first of a domain signs, the others are published.
    package struct ConfiguredKey: Sendable {
        package let selector: String
        /// The private key file, resolved against the configuration's directory.
        package let file: String
        package let signs: Bool
    }

    /// Our domains, in file order.
    package var localDomainNames: [String] { domains.map(\.name) }

    /// `domain`'s keys in file order, or nil when it is not one of ours.
    package func keys(of domain: String) -> [ConfiguredKey]? {
        self.domain(domain).map { local in
            local.keys.enumerated().map { ConfiguredKey(selector: $1.selector, file: $1.privateKeyFile, signs: $0 == 0) }
        }
    }

    /// The `tls-policy` deliveries to `domain` follow: its own, else `outbound.tls-policy`.
    package func tlsPolicy(for domain: String) -> TLSPolicy {
        remotes.first { $0.name == domain.lowercased() }?.tlsPolicy ?? tlsPolicy
    }

    /// Each https listener's port and certificate file: what our TLSA records publish.
    package var httpsCertificates: [(port: Int, file: String)] {
        listeners.compactMap { listener in listener.scheme == .https ? listener.certificateFile.map { (listener.port, $0) } : nil }
    }

    /// Where a tool on this host reaches the running gateway's local side: the first TCP listener
    /// serving the intake (a wildcard address becomes loopback), with the intake's secret header.
    package var localStatusURL: (url: String, headers: [HeaderField])? {
        guard let listener = listeners.first(where: { $0.servesIntake && $0.scheme != .unix }) else { return nil }
        let host = listener.host == "0.0.0.0" ? "127.0.0.1" : listener.host == "::" ? "::1" : listener.host
        let url = "\(listener.scheme.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(listener.port)/status.json"
        return (url, intake.secret.map { [HeaderField(name: intake.secretHeader, value: $0)] } ?? [])
    }
}
