import ArgumentParser
import DKIM
import Foundation
import Gateway
import Transport

/// `init`: a first working set-up for one domain, the way `opendkim-genkey` and certbot start one:
/// a commented configuration that passes `--check-config`, a signing key, the secret an upstream
/// off this host needs, and the DNS records to publish. Never replaces a file.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a first configuration, signing key and DNS records for one domain.",
        discussion: """
            Writes <directory>/gateway.yaml (commented, mode 0640), the domain's signing key under
            <directory>/keys (as `dkim keygen`), and <directory>/secrets.env (mode 0600) when the
            upstream is not on this host (upstream-trust: shared-secret). Refuses to start when any
            of these exists. Prints to standard output, as zone-file lines, the records to publish:
            the SRV record partners find the receiver by, the key's TXT record and, when the TLS
            certificate exists, its TLSA record; the next commands follow as comments. Without the
            certificate the https listener is written commented out, with the certbot command that
            makes it. `ischedule-gateway status` then says what is still missing.
            """
    )

    @Option(help: "Our domain: the calendar users' addresses (alice@DOMAIN) and the signing domain.")
    var domain: String

    @Option(help: "Where inbound iSchedule for the domain's users goes: the CalDAV server's iSchedule receiver URL.")
    var upstream: String

    @Option(help: "The receiver's public host name, the SRV target (default isched.DOMAIN).")
    var hostname: String?

    @Option(help: "Directory for gateway.yaml, keys/ and secrets.env.")
    var directory = "/etc/ischedule-gateway"

    @Option(help: "The DKIM selector of the first key.")
    var selector = "gw1"

    @Option(help: "ADDRESS:PORT of the https receiver partners deliver to; its port goes into the SRV record.")
    var listen = "0.0.0.0:443"

    @Option(help: "ADDRESS:PORT of the plain-http intake the CalDAV server submits to (loopback, unless --intake-from).")
    var intake = "127.0.0.1:8080"

    @Option(
        name: .customLong("intake-from"),
        help: "The CalDAV server's address (or CIDR) when it runs on another host (repeatable): the intake admits only it, with a secret.")
    var intakeFrom: [String] = []

    @Option(help: "The receiver's TLS certificate chain (PEM; default DIRECTORY/tls/fullchain.pem, where the certbot deploy hook puts it).")
    var certificate: String?

    @Option(name: .customLong("private-key"), help: "The receiver's TLS private key (PEM; default DIRECTORY/tls/privkey.pem).")
    var privateKey: String?

    @Option(help: "The gateway's state directory (the queue, the replay ledger).")
    var dataDirectory = "/var/lib/ischedule-gateway"

    @Option(name: .customLong("dns-server"), help: "A DNS server to resolve with, ADDRESS[:PORT] (repeatable; default the system's).")
    var dnsServers: [String] = []

    @Option(help: "CA certificates (PEM) to verify partners and the upstream with, instead of the system's.")
    var caFile: String?

    @Option(help: "USER[:GROUP] to own the files, e.g. root:ischedule-gateway (the key and gateway.yaml group-readable).")
    var owner: String?

    func validate() throws {
        guard DNSName.isValidDomain(domain.lowercased()) else { throw ValidationError("--domain '\(domain)' is not a domain name") }
        guard DNSName.isValidSelector(selector) else { throw ValidationError("--selector '\(selector)' is not a DNS label sequence") }
        guard DNSName.isValidDomain(host) else { throw ValidationError("--hostname '\(host)' is not a host name") }
        guard let scheme = URLComponents(string: upstream)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw ValidationError("--upstream '\(upstream)' is not an http(s) URL")
        }
        let values =
            [domain, upstream, directory, selector, listen, intake, dataDirectory] + dnsServers
            + [hostname, certificate, privateKey, caFile, owner].compactMap { $0 }
        if let bad = values.first(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            throw ValidationError("'\(bad.debugDescription)' contains a control character")
        }
        for (name, value) in [("--listen", listen), ("--intake", intake)] where InitialConfiguration.port(of: value) == nil {
            throw ValidationError("\(name) '\(value)' is not ADDRESS:PORT")
        }
        for address in intakeFrom where IPAddressRange(address) == nil {
            throw ValidationError("--intake-from '\(address)' is not an IP address or CIDR range")
        }
        let loopbackIntake = IPAddressRange.isLoopbackURL("http://\(intake)/")
        guard loopbackIntake || !intakeFrom.isEmpty else {
            throw ValidationError(
                "--intake '\(intake)' is not a loopback address: the intake takes whatever its clients ask to send signed; "
                    + "for a CalDAV server on another host, name it with --intake-from")
        }
        guard !loopbackIntake || intakeFrom.allSatisfy({ IPAddressRange.isLoopback($0) }) else {
            throw ValidationError("--intake-from names another host, but --intake '\(intake)' listens on loopback only: give an address it reaches")
        }
        if !IPAddressRange.isLoopbackURL(upstream) && URLComponents(string: upstream)?.scheme?.lowercased() != "https" {
            throw ValidationError(
                "--upstream '\(upstream)': an upstream on another host is sent a shared secret with every message: use https, not http")
        }
    }

    var host: String { (hostname ?? "isched.\(domain)").lowercased() }

    func run() throws {
        let domain = domain.lowercased()
        let files = InitialConfiguration.Files(directory: directory, domain: domain, selector: selector)
        let upstreamIsLocal = IPAddressRange.isLoopbackURL(upstream)
        let secrets = (upstreamIsLocal ? [] : ["ISCHEDULE_UPSTREAM_SECRET"]) + (intakeFrom.isEmpty ? [] : ["ISCHEDULE_GATEWAY_SECRET"])
        let skeleton = Self.isInstalledExample(files.configuration)
        for path in [files.configuration, files.privateKey, files.publicKey] + (secrets.isEmpty ? [] : [files.secrets])
        where FileManager.default.fileExists(atPath: path) && !(path == files.configuration && skeleton) {
            throw CLIError("\(path) exists: init never replaces a file (remove it, or edit the configuration by hand)")
        }
        let fileOwner = try owner.map(FileOwner.init) ?? Self.owner(of: directory)
        let certificate = certificate ?? "\(directory)/tls/fullchain.pem"
        let privateKey = privateKey ?? "\(directory)/tls/privkey.pem"
        let hasCertificate = FileManager.default.isReadableFile(atPath: certificate) && FileManager.default.isReadableFile(atPath: privateKey)
        let key: RSAPrivateKey
        do { key = try RSAPrivateKey.generate(bits: 2048) } catch { throw CLIError("key generation failed: \(error)") }
        let text = InitialConfiguration(
            domain: domain, selector: selector, host: host, upstream: upstream, upstreamIsLocal: upstreamIsLocal, listen: listen, intake: intake,
            certificate: certificate, privateKey: privateKey, certificateExists: hasCertificate, dataDirectory: dataDirectory,
            dnsServers: dnsServers, caFile: caFile, intakeFrom: intakeFrom
        ).yaml
        try KeyFiles.createDirectory(directory, owner: fileOwner)
        try KeyFiles.createDirectory(directory + "/keys", owner: fileOwner)
        let groupReadable: mode_t = fileOwner?.namesGroup == true ? 0o640 : 0o600
        try CLIFiles.writeNew(files.privateKey, Array(key.pkcs8PEM.utf8), mode: groupReadable, owner: fileOwner)
        try CLIFiles.writeNew(files.publicKey, Array(key.publicKey.pem.utf8), mode: 0o644, owner: fileOwner)
        if !secrets.isEmpty {
            let lines = secrets.map { name in name + "=" + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() + "\n" }
            try CLIFiles.writeNew(files.secrets, Array(lines.joined().utf8), mode: 0o600)
        }
        if skeleton {
            printError("\(files.configuration) is the example deploy/install.sh put there, unchanged: replacing it")
            try? FileManager.default.removeItem(atPath: files.configuration)
        }
        try CLIFiles.writeNew(files.configuration, Array(text.utf8), mode: groupReadable, owner: fileOwner)
        printError(
            "wrote \(files.configuration), \(files.privateKey) (mode \(String(groupReadable, radix: 8))\(fileOwner.map { ", owner \($0.text)" } ?? ""))"
                + (secrets.isEmpty ? "" : ", \(files.secrets)"))
        if fileOwner?.namesGroup != true {
            printError("note: only root can read them; the service's user needs --owner root:ischedule-gateway (or a directory of that group)")
        }
        print(
            records(
                key: key, certificate: hasCertificate ? certificate : nil, files: files, upstreamIsLocal: upstreamIsLocal, secrets: !secrets.isEmpty))
    }

    /// The owner and group of an existing directory (install.sh makes /etc/ischedule-gateway
    /// root:ischedule-gateway): what `init` writes there is then readable by the service.
    static func owner(of directory: String) -> FileOwner? {
        var status = stat()
        guard stat(directory, &status) == 0, status.st_gid != 0 else { return nil }
        return FileOwner(user: status.st_uid, group: status.st_gid)
    }

    /// Whether `path` is byte for byte the example configuration the installation ships (which
    /// `deploy/install.sh` and the Debian package put in place when there was none): not the
    /// administrator's file, so `init` may replace it.
    static func isInstalledExample(_ path: String) -> Bool {
        guard let current = FileManager.default.contents(atPath: path) else { return false }
        let candidates = [
            installed("share/doc/ischedule-gateway/gateway.example.yaml"),
            "/usr/share/doc/ischedule-gateway/gateway.example.yaml", "/usr/local/share/doc/ischedule-gateway/gateway.example.yaml"
        ]
        return candidates.contains { FileManager.default.contents(atPath: $0) == current }
    }

    /// certbot's deploy hook as installed beside this binary (PREFIX/lib/ischedule-gateway).
    static var deployHook: String { installed("lib/ischedule-gateway/certbot-deploy-hook") }

    /// `path` under the prefix this binary is installed in (PREFIX/bin/ischedule-gateway).
    static func installed(_ path: String) -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(path).standardizedFileURL.path
    }

    /// The zone-file lines to publish, then the next steps as zone-file comments.
    func records(key: RSAPrivateKey, certificate: String?, files: InitialConfiguration.Files, upstreamIsLocal: Bool, secrets: Bool) -> String {
        let port = InitialConfiguration.port(of: listen) ?? 443
        var lines = [
            "; Publish in the \(domain) zone (and an A/AAAA record for \(host), this host's public address):",
            "_ischedules._tcp.\(domain). IN SRV 0 1 \(port) \(host).",
            DNSRecordText.line(domain: domain, selector: selector, record: KeyRecord.text(for: key.publicKey))
        ]
        if let certificate, let pem = FileManager.default.contents(atPath: certificate), let tlsa = TLSARecord.daneEE(certificatePEM: Array(pem)) {
            lines += [
                "; DANE (with DNSSEC; renew the record when the key changes, or use certbot --reuse-key):", "_\(port)._tcp.\(host). IN TLSA \(tlsa)"
            ]
        }
        let env = secrets ? " --env-file \(files.secrets)" : ""
        lines += ["", "; Next:"]
        if certificate == nil {
            lines += [
                "; 1. a certificate for \(host), installed into \(directory)/tls by the deploy hook at every renewal:",
                ";    certbot certonly --standalone -d \(host) --deploy-hook \(Self.deployHook)",
                ";    then uncomment the https listener in \(files.configuration)"
            ]
        }
        if !upstreamIsLocal {
            lines.append(
                "; - the CalDAV server at \(upstream) should accept only requests carrying X-ISchedule-Gateway-Upstream from \(files.secrets)")
        }
        lines += [
            "; - check: ischedule-gateway serve --config \(files.configuration)\(env) --check-config",
            "; - start: systemctl enable --now ischedule-gateway",
            "; - then: ischedule-gateway status --config \(files.configuration)\(env)   (says what is still missing)",
            intakeFrom.isEmpty
                ? "; - point the CalDAV server's outbound iSchedule at http://\(intake)/outbound (on another host: init --intake-from)"
                : "; - point the CalDAV server's outbound iSchedule at http://\(intake)/outbound, with the header "
                    + "X-ISchedule-Gateway-Secret: ISCHEDULE_GATEWAY_SECRET from \(files.secrets)"
        ]
        return lines.joined(separator: "\n")
    }
}
