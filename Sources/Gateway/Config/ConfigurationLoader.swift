public import Foundation
internal import DKIM
internal import Transport

/// Reads and checks a gateway configuration file; every problem names its key.
public enum ConfigurationLoader {
    /// Where `serve` looks when no `--config` is given: the working directory's `config/`, then
    /// the installed copy beside the executable, then `/etc`.
    static func defaultLocations(executable: String = CommandLine.arguments.first ?? "") -> [String] {
        let binDirectory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        return [
            FileManager.default.currentDirectoryPath + "/config/gateway.yaml",
            binDirectory.deletingLastPathComponent().path + "/etc/ischedule-gateway/gateway.yaml",
            "/etc/ischedule-gateway/gateway.yaml",
        ]
    }

    /// The first default location that exists.
    public static func findDefault() throws(ConfigurationError) -> String {
        let candidates = defaultLocations()
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ConfigurationError(key: "", problem: "no configuration file found (looked in \(candidates.joined(separator: ", ")))")
        }
        return found
    }

    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> GatewayConfiguration {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigurationError(key: "", problem: "cannot read \(file): \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        do {
            return try parse(yaml: text, directory: directory, environment: environment, source: file)
        } catch {
            throw ConfigurationError(key: error.key, problem: error.problem + " (in \(file))")
        }
    }

    static func parse(yaml text: String, directory: String, environment: [String: String] = [:],
                             source: String = "(inline)") throws(ConfigurationError) -> GatewayConfiguration {
        let root = try ConfigReader(yaml: text)
        try root.allowOnly(["listeners", "data-directory", "log-level", "administrator", "capabilities-serial", "domains",
                            "outbound", "remote-domains", "dkim", "dns", "tls", "limits", "timeouts", "delivery", "imip",
                            "store", "store-password", "store-password-env"])
        let paths = PathResolver(directory: directory)
        let sections = ConfigurationSections(paths: paths, environment: environment)

        let listeners = try root.sections("listeners").map { reader throws(ConfigurationError) in try sections.listener(reader) }
        guard !listeners.isEmpty else { throw ConfigurationError(key: "listeners", problem: "at least one listener is required") }
        let (domains, remotes) = try Self.domains(root, sections: sections)
        let outbound = try root.section("outbound")
        let dnsServers = try Self.dnsServers(root)
        let tls = try root.section("tls")
        try tls?.allowOnly(["ca-file"])
        let caFile = try tls?.string("ca-file").map { path throws(ConfigurationError) in try paths.existingFile(path, key: "tls.ca-file") }
        let logLevel = try root.string("log-level", default: "info")
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigurationError(key: "log-level", problem: "'\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        if let administrator = try root.string("administrator"), !administrator.contains(":") {
            throw ConfigurationError(key: "administrator", problem: "'\(administrator)' is not a URI (e.g. mailto:postmaster@example.com)")
        }
        let intake = try sections.intake(outbound)
        if intake.secret == nil, let open = listeners.firstIndex(where: { $0.servesIntake && !$0.isLoopback }) {
            throw ConfigurationError(key: "outbound.secret", problem: "required: listeners[\(open)] (\(listeners[open].url)) serves the "
                                     + "outbound intake on an address that is not loopback; set secret-env (or intake: false there)")
        }
        return GatewayConfiguration(
            listeners: listeners,
            domains: domains,
            intake: intake,
            remotes: remotes,
            dkim: try sections.dkim(try root.section("dkim")),
            limits: try sections.limits(try root.section("limits")),
            timeouts: try sections.timeouts(try root.section("timeouts")),
            dnsServers: dnsServers,
            caFile: caFile,
            allowPrivateAddresses: try outbound?.bool("allow-private-addresses", default: false) ?? false,
            dataDirectory: paths.absolute(try root.string("data-directory", default: "data")),
            store: try StoreSettings.parse(root, paths: paths, environment: environment, caFile: caFile),
            administrator: try root.string("administrator"),
            capabilitiesSerial: try root.int("capabilities-serial", default: 1, in: 0...Int(Int32.max)),
            delivery: try sections.delivery(try root.section("delivery")),
            imip: try sections.imip(try root.section("imip")),
            logLevel: logLevel,
            source: source
        )
    }
}

extension ConfigurationLoader {
    /// Our domains (at least one) and the remote overrides, which must not name one of ours.
    static func domains(_ root: ConfigReader, sections: ConfigurationSections) throws(ConfigurationError)
        -> ([GatewayConfiguration.LocalDomain], [GatewayConfiguration.RemoteDomain]) {
        let domainsReader = try root.section("domains")
        guard let domainsReader, !domainsReader.keys.isEmpty else {
            throw ConfigurationError(key: "domains", problem: "at least one domain of ours is required")
        }
        let domains = try domainsReader.keys.map { name throws(ConfigurationError) in
            try sections.localDomain(name: name, try domainsReader.sectionOrEmpty(name), path: domainsReader.key(name))
        }
        var remotes: [GatewayConfiguration.RemoteDomain] = []
        if let remoteReader = try root.section("remote-domains") {
            remotes = try remoteReader.keys.map { name throws(ConfigurationError) in
                try sections.remoteDomain(name: name, try remoteReader.sectionOrEmpty(name), path: remoteReader.key(name))
            }
        }
        for remote in remotes where domains.contains(where: { $0.name == remote.name }) {
            throw ConfigurationError(key: "remote-domains.\(remote.name)", problem: "is also one of our domains")
        }
        return (domains, remotes)
    }

    /// `dns.servers`: IPv4 literals with an optional port.
    static func dnsServers(_ root: ConfigReader) throws(ConfigurationError) -> [DNSResolverConfiguration.Server] {
        let dns = try root.section("dns")
        try dns?.allowOnly(["servers"])
        return try (dns?.strings("servers") ?? []).enumerated().map { index, text throws(ConfigurationError) in
            guard let server = DNSResolverConfiguration.Server(text) else {
                throw ConfigurationError(key: "dns.servers[\(index)]", problem: "'\(text)' is not an IPv4 address with an optional :port")
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
