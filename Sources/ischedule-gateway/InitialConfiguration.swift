import Foundation
import Transport

/// The configuration `init` writes: one domain, its key, the https receiver and the loopback
/// intake, each key commented for the administrator who reads it first.
struct InitialConfiguration {
    /// The files `init` writes.
    struct Files {
        let configuration, privateKey, publicKey, secrets: String

        init(directory: String, domain: String, selector: String) {
            configuration = "\(directory)/gateway.yaml"
            privateKey = "\(directory)/keys/\(domain).\(selector).private.pem"
            publicKey = "\(directory)/keys/\(domain).\(selector).public.pem"
            secrets = "\(directory)/secrets.env"
        }
    }

    let domain, selector, host, upstream: String
    let upstreamIsLocal: Bool
    let listen, intake, certificate, privateKey: String
    let certificateExists: Bool
    let dataDirectory: String
    let dnsServers: [String]
    let caFile: String?
    /// The CalDAV server's addresses when it is on another host (the intake admits only them).
    var intakeFrom: [String] = []

    /// The port of `ADDRESS:PORT` (`[::]:443` too), when it is one.
    static func port(of value: String) -> UInt16? {
        guard let colon = value.lastIndex(of: ":"), value.startIndex < colon else { return nil }
        return UInt16(value[value.index(after: colon)...]).flatMap { $0 == 0 ? nil : $0 }
    }

    /// A YAML scalar in double quotes.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    var yaml: String {
        [header, listeners, domainSection, network].joined(separator: "\n") + "\n"
    }

    private var header: String {
        """
        # ischedule-gateway for \(domain), as `ischedule-gateway init` wrote it. Every key, with its
        # default: /usr/share/doc/ischedule-gateway/gateway.example.yaml (docs/configuration.md).
        # Check after each change: ischedule-gateway serve --config THIS-FILE --check-config
        # (with --env-file secrets.env when it exists); apply: systemctl reload ischedule-gateway.

        data-directory: \(Self.quoted(dataDirectory))

        """
    }

    private var listeners: String {
        let receiver = """
              # Partners deliver here: _ischedules._tcp.\(domain) names \(host) and this port.
              - url: \(Self.quoted("https://\(listen)"))
                certificate: \(Self.quoted(certificate))
                private-key: \(Self.quoted(privateKey))
            """
        let active =
            certificateExists
            ? receiver
            : "  # Uncomment once the certificate exists (certbot with the deploy hook: deploy/README.md, section 1):\n"
                + receiver.split(separator: "\n").map { line in
                    line.hasPrefix("  #") ? String(line) : "  # " + line.dropFirst(2)
                }.joined(separator: "\n")
        return """
            listeners:
            \(active)
              # The CalDAV server submits its outbound scheduling messages here (POST /outbound).
              # Only the clients outbound.allow-from names may (loopback unless set below).
              - url: \(Self.quoted("http://\(intake)"))

            """
    }

    private var domainSection: String {
        let trust =
            upstreamIsLocal
            ? [
                "    # On this host, upstream-trust: none. Any local process can post to the CalDAV server's receiver",
                "    # too: on a host with other users, use upstream-trust: shared-secret (docs/configuration.md)."
            ]
            : [
                "    # Not on this host: every forward carries X-ISchedule-Gateway-Upstream with the secret",
                "    # in secrets.env; the CalDAV server must accept inbound iSchedule only with it.",
                "    upstream-trust: shared-secret", "    upstream-secret-env: ISCHEDULE_UPSTREAM_SECRET"
            ]
        return """
            domains:
              \(domain):
                # The key partners verify our signatures with (its TXT record: \(selector)._domainkey.\(domain)).
                # Rotate with: ischedule-gateway dkim rotate --config THIS-FILE --domain \(domain)
                dkim-keys:
                  - selector: \(selector)
                    private-key: \(Self.quoted("keys/\(domain).\(selector).private.pem"))
                # Verified inbound iSchedule for \(domain) users is forwarded here.
                upstream: \(Self.quoted(upstream))
            \(trust.joined(separator: "\n"))

            """
    }

    /// The intake's clients when the CalDAV server is on another host: its addresses, with a secret.
    private var intakeClients: String {
        guard !intakeFrom.isEmpty else { return "" }
        return "\n  # The CalDAV server on another host: only its addresses, each request with the secret"
            + "\n  # (header X-ISchedule-Gateway-Secret; the value is ISCHEDULE_GATEWAY_SECRET in secrets.env)."
            + "\n  allow-from: [\(intakeFrom.map(Self.quoted).joined(separator: ", "))]\n  secret-env: ISCHEDULE_GATEWAY_SECRET"
    }

    private var network: String {
        var text = ""
        if !dnsServers.isEmpty {
            text +=
                "# SRV, TXT and address lookups go to these servers only.\ndns:\n  servers: [\(dnsServers.map(Self.quoted).joined(separator: ", "))]\n"
        }
        if let caFile {
            text += "# Partners' and the upstream's certificates are verified against these CAs.\ntls:\n  ca-file: \(Self.quoted(caFile))\n"
        }
        return text
            + """
            outbound:\(intakeClients)
              # Where invitations may go: https receivers with certificates that verify (the default).
              tls-policy: verify
              # Never deliver to private or loopback addresses a partner's DNS names.
              allow-private-addresses: false
            """
    }
}
