internal import DKIM
package import Transport

/// Everything `serve` needs, read and checked by `ConfigurationLoader` (see `config/gateway.example.yaml`
/// for every key). Paths are absolute once loaded; secrets are resolved from the environment.
package struct GatewayConfiguration: Sendable {
    /// One HTTP or HTTPS listener.
    struct Listener: Sendable, Equatable {
        /// `unix`: a Unix-domain socket at `host` (a path); only local processes can reach it.
        enum Scheme: String, Sendable { case http, https, unix }
        var scheme: Scheme
        var host: String
        var port: Int
        /// PEM certificate chain and private key, for https.
        var certificateFile: String?
        var privateKeyFile: String?
        /// Whether the outbound intake is served here (default: on loopback listeners only).
        var servesIntake: Bool = false
        /// Whether `/metrics` is served here to anyone who reaches the listener (a scraper's own
        /// port). Elsewhere it is served only beside the intake, to its clients.
        var servesMetrics: Bool = false
        /// https: client certificates are asked for and, when presented, must chain to these CAs
        /// (the TLS-only authentication profile); peers without one still connect.
        var clientCAFile: String?

        var isLoopback: Bool { scheme == .unix || host == "localhost" || IPAddressRange.isLoopback(host) }

        var url: String {
            scheme == .unix ? "unix:\(host)" : "\(scheme.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// A private key we sign with (the first of a domain) or publish for key rotation.
    struct SigningKey: Sendable, Equatable {
        var selector: String
        var privateKeyFile: String
        /// Development only: `serve` generates the key when the file does not exist yet.
        var createIfMissing: Bool
    }

    /// How the gateway proves itself to a local upstream when it forwards inbound messages.
    enum UpstreamTrust: Sendable, Equatable {
        /// Nothing added: allowed only for loopback upstreams.
        case none
        /// A header carrying a secret the upstream (or the proxy in front of it) checks.
        case sharedSecret(header: String, secret: String)
        /// Re-signed with a local key the upstream knows by private exchange.
        case dkim(domain: String, key: SigningKey)
    }

    /// A domain of ours: its DKIM keys (we sign its outbound mail) and, when hosted, the local
    /// CalDAV server its recipients are forwarded to.
    struct LocalDomain: Sendable, Equatable {
        var name: String
        var keys: [SigningKey]
        var upstream: String?
        var upstreamTrust: UpstreamTrust
        /// `delivery: imip`: verified inbound messages for its users become e-mail to the local
        /// MTA (`imip:`) instead of forwards to an upstream.
        var deliversByMail = false
        /// The certificate presented to remote domains with `authentication: tls`.
        var clientCertificate: ClientCertificate?
        /// Free/busy requests for its users answered from its CalDAV server (no iSchedule there).
        var freeBusy: FreeBusySettings?

        /// Whether inbound messages for its users are delivered here (forwarded or mailed).
        var receives: Bool { upstream != nil || deliversByMail }
    }

    /// Who may submit outbound messages.
    struct Intake: Sendable, Equatable {
        var path: String
        var allowFrom: [IPAddressRange]
        var secretHeader: String
        var secret: String?
        /// Reverse proxies whose forwarding headers are believed (the client they name is then the one allow-listed).
        var trustedProxies: [IPAddressRange] = []
    }

    /// Static knowledge of a remote domain (Apple's remoteservers.xml).
    struct RemoteDomain: Sendable, Equatable {
        var name: String
        /// Receiver URI used instead of DNS discovery.
        var uri: String?
        /// Peers allowed to send unsigned requests for this domain.
        var allowUnsignedFrom: [IPAddressRange]
        /// Signing domains (`d=`) accepted for Originators of this domain besides the domain itself.
        var signingDomains: [String]
        /// The draft its servers speak, when configured: draft-01 signs requests to it the DAViCal
        /// way and accepts its signatures without iSchedule-Message-ID. Nil: learned (outbound)
        /// and draft-05 (inbound).
        var dialect: IScheduleDialect? = nil
        /// `authentication: tls` (CalConnect's TLS-only iSchedule profile, CC/WD 51010): requests to
        /// it carry our client certificate instead of a DKIM signature; unsigned requests from its
        /// Originators are accepted over a connection whose verified client certificate names one
        /// of `clientNames` (DNS subject alternative names). Signed requests are verified as ever.
        var tlsOnly = false
        var clientNames: [String] = []
        /// `tls-policy` for this domain (nil: `outbound.tls-policy`).
        var tlsPolicy: TLSPolicy? = nil
        /// `require-dnssec-keys`: its signatures verify only with keys from DNSSEC-validated DNS.
        var requireDNSSECKeys = false
    }

    /// DKIM signing and verification settings.
    struct DKIMSettings: Sendable, Equatable {
        /// Our signatures' `x=` is `t=` plus this.
        var signatureLifetime: Int64
        /// Inbound signatures may be valid at most this long (x - t); one without `x=` expires this
        /// long after its `t=`. The replay cache keeps each signature that long.
        var maxSignatureLifetime: Int64
        var clockSkew: Int64
        /// Methods announced in our signatures' `q=`.
        var publishedQueryMethods: [KeyQueryMethod]
        /// Methods our verifier may use for inbound signatures.
        var lookupMethods: [KeyQueryMethod]
        var privateExchangeDirectory: String?
        var minimumKeyBits: Int
        var acceptLegacyDialects: Bool
    }

    /// Size and count limits.
    struct Limits: Sendable, Equatable {
        var maxContentLength: Int
        /// Recipients per request (inbound: more are refused; outbound: batches).
        var maxRecipients: Int
        /// Distinct ATTENDEEs per scheduling message; more are refused before any forwarding.
        var maxAttendees: Int
        var maxHeaderCount: Int
        var maxRedirects: Int
        var replayCacheEntries: Int
        /// Replay-cache entries one signing domain may hold.
        var replayEntriesPerDomain: Int
    }

    /// Timeouts in seconds.
    struct Timeouts: Sendable, Equatable {
        var connect: Double
        /// The local server's answer waits at most this long for a receiver.
        var remoteRequest: Double
        /// A transfer to a receiver may take this long (beyond `remoteRequest` it goes on after the
        /// answer 1.0): the connection is closed only then, and no retry starts before.
        var remoteTransfer: Double
        var freeBusy: Double
        var upstream: Double
        /// A request must arrive completely (head and body) within this time.
        var requestRead: Double
        var idle: Double
        var shutdownGrace: Double
        /// A PostgreSQL store operation (waiting for a connection included) fails after this long.
        var store: Double
    }

    /// The delivery queue's retry policy and limits.
    struct DeliverySettings: Sendable, Equatable {
        /// First retry after this many seconds; each further one doubles, with ±20% jitter.
        var retryInitial: Double
        var retryMaximum: Double
        /// Give up on iSchedule (and use iMIP, or fail) after this many attempts or this age.
        var maxAttempts: Int
        var maxAge: Double
        /// Attempts in flight at once, in all and per remote domain.
        var concurrency: Int
        var perDomainConcurrency: Int
        var pollInterval: Double
        /// How long a claimed record stays with its worker before others may take it.
        var lease: Double
        /// Consecutive failures that open a domain's circuit, and how long it stays open.
        var circuitFailures: Int
        var circuitCooldown: Double
        /// Finished records are kept this long for `queue list/show`, then deleted.
        var keepFinished: Double
    }

    /// E-mail fallback (used by the delivery queue).
    struct IMIPSettings: Sendable, Equatable {
        var smtpURL: String
        var from: String
        var username: String?
        var password: String?
        var requireTLS: Bool
    }

    var listeners: [Listener]
    var domains: [LocalDomain]
    var intake: Intake
    var remotes: [RemoteDomain]
    /// `outbound.tls-policy`: how remote receivers must be reached unless a domain says otherwise.
    var tlsPolicy: TLSPolicy = .verify
    var dkim: DKIMSettings
    var limits: Limits
    var timeouts: Timeouts
    /// `dns:`: the servers asked (none: /etc/resolv.conf's) and whether their AD bit is believed.
    package var resolverConfiguration: DNSResolverConfiguration
    /// `tls.ca-file`: the trust anchors for outbound TLS (nil: the system store).
    package var caFile: String?
    /// Allow outbound connections to private and loopback addresses (test beds, private networks).
    package var allowPrivateAddresses: Bool
    var dataDirectory: String
    /// Where the queue and the replay ledger live (SQLite in the data directory unless set).
    package var store: StoreSettings
    var administrator: String?
    var capabilitiesSerial: Int
    var delivery: DeliverySettings
    var imip: IMIPSettings?
    /// `imip-intake`: where the mail filter re-injects what does not go by iSchedule.
    var imipIntake: IMIPIntakeSettings? = nil
    /// Serve `/status` (HTML) on the intake listeners.
    var statusPage: Bool
    package var logLevel: String
    /// The file this was read from, for messages.
    package var source: String

    /// One line for `--check-config`: what the file sets up.
    package var summary: String {
        "\(listeners.count) listener(s), \(domains.count) domain(s), \(remotes.count) remote override(s)"
    }

    /// Whether an iMIP (e-mail) fallback is configured.
    package var mailsFallbacks: Bool { imip != nil }

    /// The SQLite state file (queue and replay ledger) when `store` is sqlite.
    package var queuePath: String { dataDirectory + "/queue.sqlite" }

    /// The domains this gateway signs for (those with DKIM keys): the only Originator domains the
    /// intake and the mail filter accept.
    var signingDomains: Set<String> { Set(domains.filter { !$0.keys.isEmpty }.map(\.name)) }

    /// The local domain named `name` (case-insensitive).
    func domain(_ name: String) -> LocalDomain? {
        let wanted = name.lowercased()
        return domains.first { $0.name == wanted }
    }

    func remote(_ name: String) -> RemoteDomain? {
        let wanted = name.lowercased()
        return remotes.first { $0.name == wanted }
    }
}
