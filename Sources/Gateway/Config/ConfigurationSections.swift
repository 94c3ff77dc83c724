internal import DKIM
internal import Foundation
internal import Transport

/// Reads the individual sections of the configuration file, checking each value.
struct ConfigurationSections {
    let paths: PathResolver
    let environment: [String: String]
    /// Commands that use no secret but the store's (`queue …`) read the file without them.
    var requireSecrets = true

    func listener(_ reader: ConfigReader) throws(ConfigurationError) -> GatewayConfiguration.Listener {
        reader.allowOnly(["url", "certificate", "private-key", "intake", "client-ca-file", "metrics"])
        let text = try reader.requiredString("url")
        if text.hasPrefix("unix:") {
            let path = paths.absolute(String(text.dropFirst(5)))
            guard !text.dropFirst(5).isEmpty, path.utf8.count < 100 else {
                throw ConfigurationError(key: reader.key("url"), problem: "'\(text)' is not unix:PATH (a path of under 100 bytes)")
            }
            var listener = GatewayConfiguration.Listener(scheme: .unix, host: path, port: 0)
            listener.servesIntake = try reader.bool("intake", default: true)
            listener.servesMetrics = try reader.bool("metrics", default: false)
            return listener
        }
        guard let url = URLComponents(string: text), let schemeText = url.scheme,
            let scheme = GatewayConfiguration.Listener.Scheme(rawValue: schemeText.lowercased()),
            let host = url.host, !host.isEmpty, let port = url.port, (0...65535).contains(port),
            url.path.isEmpty || url.path == "/"
        else {
            throw ConfigurationError(key: reader.key("url"), problem: "'\(text)' is not http(s)://ADDRESS:PORT or unix:PATH")
        }
        let address = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard IPAddressRange(address) != nil || address == "localhost" else {
            throw ConfigurationError(key: reader.key("url"), problem: "'\(host)' is not an IP address to listen on")
        }
        var listener = GatewayConfiguration.Listener(scheme: scheme, host: address, port: port)
        // The intake is for the local CalDAV server: on loopback unless a listener says otherwise.
        listener.servesIntake = try reader.bool("intake", default: listener.isLoopback)
        listener.servesMetrics = try reader.bool("metrics", default: false)
        if scheme == .https {
            listener.certificateFile = try paths.existingFile(try reader.requiredString("certificate"), key: reader.key("certificate"))
            listener.privateKeyFile = try paths.existingFile(try reader.requiredString("private-key"), key: reader.key("private-key"))
            if let file = try reader.string("client-ca-file") {
                listener.clientCAFile = try paths.existingFile(file, key: reader.key("client-ca-file"))
            }
        } else if try reader.string("client-ca-file") != nil {
            throw ConfigurationError(key: reader.key("client-ca-file"), problem: "only https listeners verify client certificates")
        } else if try reader.string("certificate") != nil {
            throw ConfigurationError(key: reader.key("certificate"), problem: "only https listeners take a certificate")
        } else if try reader.string("private-key") != nil {
            throw ConfigurationError(key: reader.key("private-key"), problem: "only https listeners take a private key")
        }
        return listener
    }

    func signingKey(_ reader: ConfigReader) throws(ConfigurationError) -> GatewayConfiguration.SigningKey {
        reader.allowOnly(["selector", "private-key", "create-if-missing"])
        let selector = reader.log.collect("ischedule") { () throws(ConfigurationError) -> String in
            let selector = try reader.string("selector", default: "ischedule").lowercased()
            guard DNSName.isValidSelector(selector) else {
                throw ConfigurationError(key: reader.key("selector"), problem: "'\(selector)' is not a valid DKIM selector")
            }
            return selector
        }
        let create = try reader.bool("create-if-missing", default: false)
        let path = paths.absolute(try reader.requiredString("private-key"))
        if !create && !FileManager.default.isReadableFile(atPath: path) {
            throw ConfigurationError(key: reader.key("private-key"), problem: "file \(path) does not exist or is not readable")
        }
        return GatewayConfiguration.SigningKey(selector: selector, privateKeyFile: path, createIfMissing: create)
    }

    /// One of our domains. Each of its settings is checked on its own: a problem is recorded
    /// (`ProblemLog`) and the next setting read, so that `--check-config` names them all.
    func localDomain(name: String, _ reader: ConfigReader, path: String) throws(ConfigurationError) -> GatewayConfiguration.LocalDomain {
        reader.allowOnly([
            "dkim-keys", "upstream", "upstream-trust", "upstream-secret-header", "upstream-secret",
            "upstream-secret-env", "upstream-dkim-domain", "upstream-dkim-key", "delivery",
            "client-certificate", "client-private-key", "free-busy"
        ])
        let domain = name.lowercased()
        guard DNSName.isValidDomain(domain) else { throw ConfigurationError(key: path, problem: "'\(name)' is not a domain name") }
        let log = reader.log
        let keys = log.collect([]) { () throws(ConfigurationError) in try domainKeys(reader) }
        let upstream = log.collect(nil) { () throws(ConfigurationError) -> String? in
            let upstream = try reader.string("upstream")
            if let upstream { try Self.checkHTTPURL(upstream, key: reader.key("upstream")) }
            return upstream
        }
        let delivery = log.collect("none") { () throws(ConfigurationError) in
            try deliveryMode(reader, upstream: upstream, configured: reader.node("upstream") != nil, hasKeys: !keys.isEmpty, path: path)
        }
        let trust = log.collect(.none) { () throws(ConfigurationError) in try upstreamTrust(reader, domain: domain, upstream: upstream) }
        let client = log.collect(nil) { () throws(ConfigurationError) in try clientCertificate(reader) }
        let freeBusy = log.collect(nil) { () throws(ConfigurationError) in
            try FreeBusySettings.parse(try reader.section("free-busy"), environment: environment, requireSecrets: requireSecrets, paths: paths)
        }
        return GatewayConfiguration.LocalDomain(
            name: domain, keys: keys, upstream: upstream, upstreamTrust: trust, deliversByMail: delivery == "imip",
            clientCertificate: client, freeBusy: freeBusy)
    }

    /// `dkim-keys`: each key checked on its own, then the selectors against each other.
    private func domainKeys(_ reader: ConfigReader) throws(ConfigurationError) -> [GatewayConfiguration.SigningKey] {
        let keys = try reader.sections("dkim-keys").compactMap { key in
            reader.log.collect(nil) { () throws(ConfigurationError) in try signingKey(key) }
        }
        if Set(keys.map(\.selector)).count != keys.count {
            throw ConfigurationError(key: reader.key("dkim-keys"), problem: "a selector appears twice")
        }
        return keys
    }

    /// `delivery`: upstream, imip or none, as the domain's other settings allow. `configured`:
    /// an upstream is written, valid or not (a bad one is its own problem, not a missing one).
    private func deliveryMode(
        _ reader: ConfigReader, upstream: String?, configured: Bool, hasKeys: Bool, path: String
    ) throws(ConfigurationError) -> String {
        let delivery = try reader.string("delivery", default: configured ? "upstream" : "none")
        switch delivery {
        case "upstream" where !configured:
            throw ConfigurationError(key: reader.key("upstream"), problem: "missing (required by delivery: upstream)")
        case "imip" where configured:
            throw ConfigurationError(
                key: reader.key("delivery"), problem: "'imip' mails what it receives; remove upstream, or use delivery: upstream")
        case "upstream", "imip", "none": break
        default: throw ConfigurationError(key: reader.key("delivery"), problem: "'\(delivery)' is not one of upstream, imip")
        }
        if !configured && delivery != "imip" && !hasKeys && reader.node("dkim-keys") == nil {
            throw ConfigurationError(key: path, problem: "needs dkim-keys (to send) or an upstream or delivery: imip (to receive), or both")
        }
        return delivery
    }

    /// `upstream-trust` and what it needs.
    private func upstreamTrust(_ reader: ConfigReader, domain: String, upstream: String?) throws(ConfigurationError)
        -> GatewayConfiguration.UpstreamTrust
    {
        let trustName = try reader.string("upstream-trust", default: "none")
        switch trustName {
        case "none":
            if let upstream, !IPAddressRange.isLoopbackURL(upstream) {
                throw ConfigurationError(
                    key: reader.key("upstream-trust"),
                    problem: "'none' is only allowed for a loopback upstream; use shared-secret or dkim")
            }
            return .none
        case "shared-secret":
            guard let secret = try reader.secret("upstream-secret", environment: environment, required: requireSecrets) else {
                throw ConfigurationError(key: reader.key("upstream-secret"), problem: "missing (required by upstream-trust: shared-secret)")
            }
            return .sharedSecret(header: try reader.string("upstream-secret-header", default: "X-ISchedule-Gateway-Upstream"), secret: secret)
        case "dkim":
            guard let keyReader = try reader.section("upstream-dkim-key") else {
                throw ConfigurationError(key: reader.key("upstream-dkim-key"), problem: "missing (required by upstream-trust: dkim)")
            }
            let signingDomain = try reader.string("upstream-dkim-domain", default: domain).lowercased()
            guard DNSName.isValidDomain(signingDomain) else {
                throw ConfigurationError(key: reader.key("upstream-dkim-domain"), problem: "'\(signingDomain)' is not a domain name")
            }
            return .dkim(domain: signingDomain, key: try signingKey(keyReader))
        default:
            throw ConfigurationError(key: reader.key("upstream-trust"), problem: "'\(trustName)' is not one of none, shared-secret, dkim")
        }
    }

    /// `client-certificate` and `client-private-key`, both or neither.
    private func clientCertificate(_ reader: ConfigReader) throws(ConfigurationError) -> ClientCertificate? {
        switch (try reader.string("client-certificate"), try reader.string("client-private-key")) {
        case (nil, nil): return nil
        case (let certificate?, let key?):
            return ClientCertificate(
                certificateFile: try paths.existingFile(certificate, key: reader.key("client-certificate")),
                privateKeyFile: try paths.existingFile(key, key: reader.key("client-private-key")))
        case (nil, _): throw ConfigurationError(key: reader.key("client-certificate"), problem: "missing (client-private-key is set)")
        case (_, nil): throw ConfigurationError(key: reader.key("client-private-key"), problem: "missing (client-certificate is set)")
        }
    }

    /// A remote domain's settings, each checked on its own (every problem named).
    func remoteDomain(name: String, _ reader: ConfigReader, path: String) throws(ConfigurationError) -> GatewayConfiguration.RemoteDomain {
        reader.allowOnly([
            "uri", "allow-unsigned-from", "signing-domains", "dialect", "authentication", "client-names", "tls-policy", "require-dnssec-keys"
        ])
        let domain = name.lowercased()
        guard DNSName.isValidDomain(domain) else { throw ConfigurationError(key: path, problem: "'\(name)' is not a domain name") }
        let log = reader.log
        let uri = log.collect(nil) { () throws(ConfigurationError) -> String? in
            let uri = try reader.string("uri")
            if let uri { try Self.checkHTTPURL(uri, key: reader.key("uri")) }
            return uri
        }
        let signingDomains = log.collect([]) { () throws(ConfigurationError) in try domainNames(reader, "signing-domains", what: "a domain name") }
        let dialect = log.collect(nil) { () throws(ConfigurationError) -> IScheduleDialect? in
            guard let name = try reader.string("dialect") else { return nil }
            guard let known = IScheduleDialect(rawValue: name) else {
                throw ConfigurationError(key: reader.key("dialect"), problem: "'\(name)' is not one of draft-05, draft-01")
            }
            return known
        }
        let clientNames = log.collect([]) { () throws(ConfigurationError) in try domainNames(reader, "client-names", what: "a host name") }
        let tlsOnly = log.collect(false) { () throws(ConfigurationError) -> Bool in
            let authentication = try reader.string("authentication", default: "dkim")
            guard authentication == "dkim" || authentication == "tls" else {
                throw ConfigurationError(key: reader.key("authentication"), problem: "'\(authentication)' is not one of dkim, tls")
            }
            if authentication == "tls" && ((try? reader.strings("client-names"))?.isEmpty ?? false) {
                throw ConfigurationError(
                    key: reader.key("client-names"), problem: "missing (authentication: tls needs the names its servers' client certificates carry)")
            }
            return authentication == "tls"
        }
        return GatewayConfiguration.RemoteDomain(
            name: domain, uri: uri,
            allowUnsignedFrom: log.collect([]) { () throws(ConfigurationError) in try addresses(reader, "allow-unsigned-from") },
            signingDomains: signingDomains, dialect: dialect, tlsOnly: tlsOnly, clientNames: clientNames,
            tlsPolicy: log.collect(nil) { () throws(ConfigurationError) in try tlsPolicy(reader) },
            requireDNSSECKeys: log.collect(false) { () throws(ConfigurationError) in try reader.bool("require-dnssec-keys", default: false) })
    }

    /// A list of domain or host names, lower case; the first that is not one is the problem.
    private func domainNames(_ reader: ConfigReader, _ name: String, what: String) throws(ConfigurationError) -> [String] {
        let names = try reader.strings(name).map { $0.lowercased() }
        for (index, entry) in names.enumerated() where !DNSName.isValidDomain(entry) {
            throw ConfigurationError(key: "\(reader.key(name))[\(index)]", problem: "'\(entry)' is not \(what)")
        }
        return names
    }

    /// `tls-policy` in `reader` (outbound or a remote domain), nil when absent.
    func tlsPolicy(_ reader: ConfigReader?) throws(ConfigurationError) -> TLSPolicy? {
        guard let reader, let name = try reader.string("tls-policy") else { return nil }
        guard let policy = TLSPolicy(rawValue: name) else {
            throw ConfigurationError(
                key: reader.key("tls-policy"), problem: "'\(name)' is not one of \(TLSPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }

    func intake(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.Intake {
        reader?.allowOnly([
            "path", "allow-from", "secret-header", "secret", "secret-env", "allow-private-addresses", "trusted-proxies", "tls-policy"
        ])
        let path = try reader?.string("path", default: "/outbound") ?? "/outbound"
        guard path.hasPrefix("/"), !path.hasPrefix("/.well-known/"), !path.contains("?") else {
            throw ConfigurationError(key: "outbound.path", problem: "'\(path)' must be an absolute path outside /.well-known/")
        }
        var allowFrom = try reader.map { r throws(ConfigurationError) in try addresses(r, "allow-from") } ?? []
        if allowFrom.isEmpty { allowFrom = [IPAddressRange("127.0.0.0/8")!, IPAddressRange("::1")!] }
        return GatewayConfiguration.Intake(
            path: path, allowFrom: allowFrom,
            secretHeader: try reader?.string("secret-header", default: "X-ISchedule-Gateway-Secret") ?? "X-ISchedule-Gateway-Secret",
            secret: try reader?.secret("secret", environment: environment, required: requireSecrets),
            trustedProxies: try reader.map { r throws(ConfigurationError) in try addresses(r, "trusted-proxies") } ?? [])
    }

    func dkim(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.DKIMSettings {
        reader?.allowOnly([
            "signature-lifetime", "max-signature-lifetime", "clock-skew", "query-methods", "lookup-methods",
            "private-exchange-directory", "minimum-key-bits", "accept-legacy-dialects"
        ])
        let published = try methods(reader, "query-methods", default: [.dnsTXT, .httpWellKnown])
        let lookup = try methods(reader, "lookup-methods", default: [.dnsTXT, .httpWellKnown, .privateExchange])
        return GatewayConfiguration.DKIMSettings(
            signatureLifetime: Int64(try reader?.seconds("signature-lifetime", default: 3600, in: 60...86_400) ?? 3600),
            maxSignatureLifetime: Int64(try reader?.seconds("max-signature-lifetime", default: 86_400, in: 60...604_800) ?? 86_400),
            clockSkew: Int64(try reader?.seconds("clock-skew", default: 360, in: 0...3600) ?? 360),
            publishedQueryMethods: published, lookupMethods: lookup,
            privateExchangeDirectory: try reader?.string("private-exchange-directory").map(paths.absolute),
            minimumKeyBits: try reader?.int("minimum-key-bits", default: 1024, in: 512...16384) ?? 1024,
            acceptLegacyDialects: try reader?.bool("accept-legacy-dialects", default: false) ?? false)
    }

    func limits(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.Limits {
        reader?.allowOnly([
            "max-content-length", "max-recipients", "max-attendees", "max-header-count", "max-redirects",
            "replay-cache-entries", "replay-entries-per-domain"
        ])
        let replayEntries = try reader?.int("replay-cache-entries", default: 100_000, in: 100...10_000_000) ?? 100_000
        return GatewayConfiguration.Limits(
            maxContentLength: try reader?.int("max-content-length", default: 1_048_576, in: 1024...(256 << 20)) ?? 1_048_576,
            maxRecipients: try reader?.int("max-recipients", default: 100, in: 1...10_000) ?? 100,
            maxAttendees: try reader?.int("max-attendees", default: 5_000, in: 1...100_000) ?? 5_000,
            maxHeaderCount: try reader?.int("max-header-count", default: 100, in: 16...1000) ?? 100,
            maxRedirects: try reader?.int("max-redirects", default: 3, in: 0...10) ?? 3,
            replayCacheEntries: replayEntries,
            replayEntriesPerDomain: try reader?.int(
                "replay-entries-per-domain", default: min(10_000, replayEntries),
                in: 10...replayEntries) ?? min(10_000, replayEntries))
    }

    func timeouts(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.Timeouts {
        reader?.allowOnly([
            "connect", "remote-request", "remote-transfer", "free-busy", "upstream", "request-read", "idle", "shutdown-grace",
            "store"
        ])
        func value(_ key: String, _ fallback: Double) throws(ConfigurationError) -> Double {
            try reader?.seconds(key, default: fallback, in: 0.05...3600) ?? fallback
        }
        let remoteRequest = try value("remote-request", 30)
        let remoteTransfer = try value("remote-transfer", max(120, remoteRequest))
        guard remoteTransfer >= remoteRequest else {
            throw ConfigurationError(key: "timeouts.remote-transfer", problem: "is shorter than timeouts.remote-request")
        }
        return GatewayConfiguration.Timeouts(
            connect: try value("connect", 10), remoteRequest: remoteRequest, remoteTransfer: remoteTransfer, freeBusy: try value("free-busy", 10),
            upstream: try value("upstream", 30), requestRead: try value("request-read", 30), idle: try value("idle", 60),
            shutdownGrace: try value("shutdown-grace", 30), store: try value("store", 8))
    }

    func delivery(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.DeliverySettings {
        reader?.allowOnly([
            "retry-initial", "retry-maximum", "max-attempts", "max-age", "concurrency", "per-domain-concurrency",
            "poll-interval", "lease", "circuit-failures", "circuit-cooldown", "keep-finished"
        ])
        func seconds(_ key: String, _ fallback: Double, _ range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
            try reader?.seconds(key, default: fallback, in: range) ?? fallback
        }
        func count(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            try reader?.int(key, default: fallback, in: range) ?? fallback
        }
        let settings = GatewayConfiguration.DeliverySettings(
            // At least a second apart: a retry signed within the same second as the previous attempt
            // would carry the identical signature, which a receiver's replay cache refuses.
            retryInitial: try seconds("retry-initial", 30, 1...86_400), retryMaximum: try seconds("retry-maximum", 3600, 1...604_800),
            maxAttempts: try count("max-attempts", 12, 1...1000), maxAge: try seconds("max-age", 172_800, 1...2_592_000),
            concurrency: try count("concurrency", 32, 1...1024), perDomainConcurrency: try count("per-domain-concurrency", 4, 1...256),
            pollInterval: try seconds("poll-interval", 1, 0.01...60), lease: try seconds("lease", 300, 1...86_400),
            circuitFailures: try count("circuit-failures", 5, 1...1000), circuitCooldown: try seconds("circuit-cooldown", 300, 0.05...86_400),
            keepFinished: try seconds("keep-finished", 604_800, 60...31_536_000))
        if settings.retryMaximum < settings.retryInitial {
            throw ConfigurationError(key: "delivery.retry-maximum", problem: "is shorter than delivery.retry-initial")
        }
        return settings
    }

    func imip(_ reader: ConfigReader?) throws(ConfigurationError) -> GatewayConfiguration.IMIPSettings? {
        guard let reader else { return nil }
        reader.allowOnly(["smtp-url", "from", "username", "password", "password-env", "require-tls"])
        let url = try reader.requiredString("smtp-url")
        guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
            URLComponents(string: url)?.host?.isEmpty == false
        else {
            throw ConfigurationError(key: reader.key("smtp-url"), problem: "'\(url)' is not smtp://HOST[:PORT] or smtps://HOST[:PORT]")
        }
        let from = try reader.requiredString("from")
        guard from.contains("@"), !from.contains(" ") else {
            throw ConfigurationError(key: reader.key("from"), problem: "'\(from)' is not an e-mail address")
        }
        return GatewayConfiguration.IMIPSettings(
            smtpURL: url, from: from, username: try reader.string("username"),
            password: try reader.secret("password", environment: environment, required: requireSecrets),
            requireTLS: try reader.bool("require-tls", default: true))
    }

    private func addresses(_ reader: ConfigReader, _ name: String) throws(ConfigurationError) -> [IPAddressRange] {
        try reader.strings(name).enumerated().map { index, text throws(ConfigurationError) in
            guard let range = IPAddressRange(text) else {
                throw ConfigurationError(key: "\(reader.key(name))[\(index)]", problem: "'\(text)' is not an IP address or CIDR block")
            }
            return range
        }
    }

    private func methods(_ reader: ConfigReader?, _ name: String, default fallback: [KeyQueryMethod]) throws(ConfigurationError) -> [KeyQueryMethod] {
        guard let reader else { return fallback }
        let texts = try reader.strings(name)
        if texts.isEmpty { return fallback }
        return try texts.enumerated().map { index, text throws(ConfigurationError) in
            guard let method = KeyQueryMethod(rawValue: text) else {
                throw ConfigurationError(
                    key: "\(reader.key(name))[\(index)]", problem: "'\(text)' is not dns/txt, http/well-known or private-exchange")
            }
            return method
        }
    }

    static func checkHTTPURL(_ text: String, key: String) throws(ConfigurationError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(key: key, problem: "not a URL ('\(text)'; expected http(s)://HOST[:PORT]/PATH)")
        }
    }
}
