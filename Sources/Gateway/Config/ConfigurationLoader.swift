internal import DKIM
internal import Foundation
internal import Transport

/// Reads and checks a gateway configuration file; every problem names its key.
package enum ConfigurationLoader {
    /// Where `serve` looks when no `--config` is given: the working directory's `config/`, then
    /// the installed copy beside the executable, then `/etc`.
    static func defaultLocations(executable: String = CommandLine.arguments.first ?? "") -> [String] {
        let binDirectory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        return [
            FileManager.default.currentDirectoryPath + "/config/gateway.yaml",
            binDirectory.deletingLastPathComponent().path + "/etc/ischedule-gateway/gateway.yaml",
            "/etc/ischedule-gateway/gateway.yaml"
        ]
    }

    /// The first default location that exists.
    package static func findDefault() throws(ConfigurationError) -> String {
        let candidates = defaultLocations()
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ConfigurationError(key: "", problem: "no configuration file found (looked in \(candidates.joined(separator: ", ")))")
        }
        return found
    }

    /// - Parameter requireSecrets: false for commands that use no secret but the store's: an
    ///   unset `*-env` variable is then not a problem.
    package static func load(
        file: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        requireSecrets: Bool = true
    ) throws(ConfigurationError) -> GatewayConfiguration {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigurationError(key: "", problem: "cannot read \(file): \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        do {
            return try parse(yaml: text, directory: directory, environment: environment, source: file, requireSecrets: requireSecrets)
        } catch {
            let problems = ([error] + error.more).map { ConfigurationError(key: $0.key, problem: $0.problem + " (in \(file))") }
            throw ConfigurationError.combining(problems) ?? error
        }
    }

    /// Reads the whole file: every problem is reported (one line each, section by section), not only the first.
    static func parse(
        yaml text: String, directory: String, environment: [String: String] = [:],
        source: String = "(inline)", requireSecrets: Bool = true
    ) throws(ConfigurationError) -> GatewayConfiguration {
        let root = try ConfigReader(yaml: text)
        let log = root.log
        root.allowOnly([
            "listeners", "data-directory", "log-level", "administrator", "capabilities-serial", "domains",
            "outbound", "remote-domains", "dkim", "dns", "tls", "limits", "timeouts", "delivery", "imip", "imip-intake",
            "store", "store-password", "store-password-env", "status-page"
        ])
        let paths = PathResolver(directory: directory)
        var sections = ConfigurationSections(paths: paths, environment: environment)
        sections.requireSecrets = requireSecrets

        let listeners = log.collect([]) { () throws(ConfigurationError) in
            try root.sections("listeners").compactMap { reader in log.collect(nil) { () throws(ConfigurationError) in try sections.listener(reader) }
            }
        }
        if listeners.isEmpty && !log.problems.contains(where: { $0.key.hasPrefix("listeners") }) {
            log.record(ConfigurationError(key: "listeners", problem: "at least one listener is required"))
        }
        let (domains, remotes) = Self.domains(root, sections: sections)
        let outbound = log.collect(nil) { () throws(ConfigurationError) in try root.section("outbound") }
        let resolver = Self.resolver(root)
        let caFile = log.collect(nil) { () throws(ConfigurationError) -> String? in
            let tls = try root.section("tls")
            tls?.allowOnly(["ca-file"])
            return try tls?.string("ca-file").map { path throws(ConfigurationError) in try paths.existingFile(path, key: "tls.ca-file") }
        }
        let logLevel = log.collect("info") { () throws(ConfigurationError) in
            let level = try root.string("log-level", default: "info")
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw ConfigurationError(key: "log-level", problem: "'\(level)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            return level
        }
        let administrator = log.collect(nil) { () throws(ConfigurationError) -> String? in
            let value = try root.string("administrator")
            if let value, !value.contains(":") {
                throw ConfigurationError(key: "administrator", problem: "'\(value)' is not a URI (e.g. mailto:postmaster@example.com)")
            }
            return value
        }
        let intake = log.collect(.init(path: "/outbound", allowFrom: [], secretHeader: "", secret: nil)) { () throws(ConfigurationError) in
            try sections.intake(outbound)
        }
        if intake.secret == nil, let open = listeners.firstIndex(where: { $0.servesIntake && !$0.isLoopback }) {
            log.record(
                ConfigurationError(
                    key: "outbound.secret",
                    problem: "required: listeners[\(open)] (\(listeners[open].url)) serves the "
                        + "outbound intake on an address that is not loopback; set secret-env (or intake: false there)"))
        }
        typealias Configuration = GatewayConfiguration
        let dkim = log.collect(nil) { () throws(ConfigurationError) -> Configuration.DKIMSettings? in try sections.dkim(try root.section("dkim")) }
        let limits = log.collect(nil) { () throws(ConfigurationError) -> Configuration.Limits? in try sections.limits(try root.section("limits")) }
        let timeouts = log.collect(nil) { () throws(ConfigurationError) -> Configuration.Timeouts? in
            try sections.timeouts(try root.section("timeouts"))
        }
        let delivery = log.collect(nil) { () throws(ConfigurationError) -> Configuration.DeliverySettings? in
            try sections.delivery(try root.section("delivery"))
        }
        if let timeouts, let delivery, delivery.lease <= timeouts.remoteTransfer {
            log.record(
                ConfigurationError(
                    key: "delivery.lease",
                    problem: "(\(Int(delivery.lease)) s) must be longer than timeouts.remote-transfer "
                        + "(\(Int(timeouts.remoteTransfer)) s): a retry would start while an attempt can still deliver"))
        }
        let imip = log.collect(nil) { () throws(ConfigurationError) in try sections.imip(try root.section("imip")) }
        if imip == nil && !log.problems.contains(where: { $0.key.hasPrefix("imip") }) {
            for domain in domains where domain.deliversByMail {
                log.record(ConfigurationError(key: "domains.\(domain.name).delivery", problem: "'imip' needs the imip section (smtp-url, from)"))
            }
        }
        let imipIntake = log.collect(nil) { () throws(ConfigurationError) in
            try IMIPIntakeSettings.parse(
                try root.section("imip-intake"), localDomains: Set(domains.map(\.name)), environment: environment, requireSecrets: requireSecrets,
                paths: paths)
        }
        let store = log.collect(nil) { () throws(ConfigurationError) -> StoreSettings? in
            try StoreSettings.parse(root, paths: paths, environment: environment, caFile: caFile)
        }
        let tlsPolicy = log.collect(.verify) { () throws(ConfigurationError) in try sections.tlsPolicy(outbound) ?? .verify }
        Self.checkPolicies(remotes, defaultPolicy: tlsPolicy, resolver: resolver, log: log)
        let allowPrivate = log.collect(false) { () throws(ConfigurationError) in
            try outbound?.bool("allow-private-addresses", default: false) ?? false
        }
        let dataDirectory = log.collect("data") { () throws(ConfigurationError) in try root.string("data-directory", default: "data") }
        let statusPage = log.collect(false) { () throws(ConfigurationError) in try root.bool("status-page", default: false) }
        let serial = log.collect(1) { () throws(ConfigurationError) in try root.int("capabilities-serial", default: 1, in: 0...Int(Int32.max)) }
        if let problems = ConfigurationError.combining(log.problems) { throw problems }
        guard let dkim, let limits, let timeouts, let delivery, let store else {
            throw ConfigurationError(key: "", problem: "a section could not be read")
        }
        return GatewayConfiguration(
            listeners: listeners, domains: domains, intake: intake, remotes: remotes, tlsPolicy: tlsPolicy, dkim: dkim, limits: limits,
            timeouts: timeouts,
            resolverConfiguration: resolver, caFile: caFile, allowPrivateAddresses: allowPrivate, dataDirectory: paths.absolute(dataDirectory),
            store: store, administrator: administrator, capabilitiesSerial: serial, delivery: delivery, imip: imip,
            imipIntake: imipIntake, statusPage: statusPage, logLevel: logLevel, source: source)
    }
}

extension ConfigurationLoader {
    /// Our domains (at least one) and the remote overrides, which must not name one of ours; each
    /// domain's problems are recorded and the others read on.
    static func domains(_ root: ConfigReader, sections: ConfigurationSections)
        -> ([GatewayConfiguration.LocalDomain], [GatewayConfiguration.RemoteDomain])
    {
        let log = root.log
        let domainsReader = log.collect(nil) { () throws(ConfigurationError) in try root.section("domains") }
        guard let domainsReader, !domainsReader.keys.isEmpty else {
            log.record(ConfigurationError(key: "domains", problem: "at least one domain of ours is required"))
            return ([], [])
        }
        let domains = domainsReader.keys.compactMap { name in
            log.collect(nil) { () throws(ConfigurationError) in
                try sections.localDomain(name: name, try domainsReader.sectionOrEmpty(name), path: domainsReader.key(name))
            }
        }
        let remoteReader = log.collect(nil) { () throws(ConfigurationError) in try root.section("remote-domains") }
        let remotes = (remoteReader?.keys ?? []).compactMap { name in
            log.collect(nil) { () throws(ConfigurationError) -> GatewayConfiguration.RemoteDomain? in
                guard let remoteReader else { return nil }
                return try sections.remoteDomain(name: name, try remoteReader.sectionOrEmpty(name), path: remoteReader.key(name))
            }
        }
        for remote in remotes where domains.contains(where: { $0.name == remote.name }) {
            log.record(ConfigurationError(key: "remote-domains.\(remote.name)", problem: "is also one of our domains"))
        }
        return (domains, remotes)
    }

    /// The rules between keys: a configured http receiver needs `may`; `dane`, `dane-only` and
    /// `require-dnssec-keys` need `dns.dnssec: validate` (an unvalidated record proves nothing).
    static func checkPolicies(
        _ remotes: [GatewayConfiguration.RemoteDomain], defaultPolicy: TLSPolicy, resolver: DNSResolverConfiguration, log: ProblemLog
    ) {
        for remote in remotes {
            let policy = remote.tlsPolicy ?? defaultPolicy
            guard let uri = remote.uri, !policy.permits(uri) else { continue }
            log.record(
                ConfigurationError(
                    key: "remote-domains.\(remote.name).uri",
                    problem: "\(uri) is plain http, which tls-policy \(policy.rawValue)\(remote.tlsPolicy == nil ? " (the default)" : "") refuses; "
                        + "use https, or set remote-domains.\(remote.name).tls-policy: may"))
        }
        guard !resolver.validatesDNSSEC else { return }
        let dane =
            [("outbound.tls-policy", defaultPolicy)]
            + remotes.compactMap { remote in remote.tlsPolicy.map { ("remote-domains.\(remote.name).tls-policy", $0) } }
        for (key, policy) in dane where policy.usesDANE {
            log.record(
                ConfigurationError(key: key, problem: "\(policy.rawValue) needs dns.dnssec: validate (TLSA records count only when validated)"))
        }
        for remote in remotes where remote.requireDNSSECKeys {
            log.record(
                ConfigurationError(
                    key: "remote-domains.\(remote.name).require-dnssec-keys",
                    problem: "needs dns.dnssec: validate (without it no key is DNSSEC-secure, and every signature would be refused)"))
        }
    }

    /// `dns:`: `servers` (IPv4 literals with an optional port), `dnssec` (`off` or `validate`) and
    /// `trusted-validators`. Under `validate` every server asked must be trusted for its AD bit.
    static func resolver(_ root: ConfigReader) -> DNSResolverConfiguration {
        root.log.collect(DNSResolverConfiguration()) { () throws(ConfigurationError) in
            guard let dns = try root.section("dns") else { return DNSResolverConfiguration() }
            dns.allowOnly(["servers", "dnssec", "trusted-validators"])
            var configuration = DNSResolverConfiguration(servers: try servers(dns, "servers"))
            let trusted = try servers(dns, "trusted-validators").map(\.host)
            switch try dns.string("dnssec", default: "off") {
            case "off": return configuration
            case "validate": configuration.validatesDNSSEC = true
            case let other: throw ConfigurationError(key: "dns.dnssec", problem: "'\(other)' is not off or validate")
            }
            // /etc/resolv.conf is read again at every query and may be rewritten (DHCP, containers):
            // the servers whose AD bit is believed are named here, once.
            guard !configuration.servers.isEmpty else {
                throw ConfigurationError(
                    key: "dns.dnssec",
                    problem: "validate needs dns.servers (a validating resolver on this host, e.g. [127.0.0.1]), not /etc/resolv.conf")
            }
            let untrusted = DNSResolverConfiguration.untrustedValidators(configuration.servers.map(\.host), trusted: trusted)
            guard untrusted.isEmpty else {
                throw ConfigurationError(
                    key: "dns.dnssec",
                    problem:
                        "validate believes the AD bit only from a validating resolver on loopback or in dns.trusted-validators; "
                        + "\(untrusted.joined(separator: ", ")) is neither: run unbound on this host and list it in dns.servers")
            }
            return configuration
        }
    }

    /// The entries of `dns.<name>`, each an IPv4 address with an optional port; each bad one recorded.
    private static func servers(_ dns: ConfigReader, _ name: String) throws(ConfigurationError) -> [DNSResolverConfiguration.Server] {
        try dns.strings(name).enumerated().compactMap { index, text in
            guard let server = DNSResolverConfiguration.Server(text) else {
                dns.log.record(ConfigurationError(key: "dns.\(name)[\(index)]", problem: "'\(text)' is not an IPv4 address with an optional :port"))
                return nil
            }
            return server
        }
    }
}

/// Turns configuration paths into absolute ones, relative to the file's directory.
struct PathResolver {
    let directory: String

    func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }

    func existingFile(_ path: String, key: String) throws(ConfigurationError) -> String {
        let absolute = absolute(path)
        guard FileManager.default.isReadableFile(atPath: absolute) else {
            throw ConfigurationError(key: key, problem: "file \(absolute) does not exist or is not readable")
        }
        return absolute
    }
}
