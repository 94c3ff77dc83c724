public import DKIM
public import Transport

/// Everything `serve` needs, read and checked by `ConfigurationLoader` (see `config/gateway.example.yaml`
/// for every key). Paths are absolute once loaded; secrets are resolved from the environment.
public struct GatewayConfiguration: Sendable {
    /// One HTTP or HTTPS listener.
    public struct Listener: Sendable, Equatable {
        public enum Scheme: String, Sendable { case http, https }
        public var scheme: Scheme
        public var host: String
        public var port: Int
        /// PEM certificate chain and private key, for https.
        public var certificateFile: String?
        public var privateKeyFile: String?

        public var url: String { "\(scheme.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    /// A private key we sign with (the first of a domain) or publish for key rotation.
    public struct SigningKey: Sendable, Equatable {
        public var selector: String
        public var privateKeyFile: String
        /// Development only: `serve` generates the key when the file does not exist yet.
        public var createIfMissing: Bool
    }

    /// How the gateway proves itself to a local upstream when it forwards inbound messages.
    public enum UpstreamTrust: Sendable, Equatable {
        /// Nothing added: allowed only for loopback upstreams.
        case none
        /// A header carrying a secret the upstream checks (Apple's `X-CALENDARSERVER-ISCHEDULE`).
        case sharedSecret(header: String, secret: String)
        /// Re-signed with a local key the upstream knows by private exchange.
        case dkim(domain: String, key: SigningKey)
    }

    /// A domain of ours: its DKIM keys (we sign its outbound mail) and, when hosted, the local
    /// CalDAV server its recipients are forwarded to.
    public struct LocalDomain: Sendable, Equatable {
        public var name: String
        public var keys: [SigningKey]
        public var upstream: String?
        public var upstreamTrust: UpstreamTrust
    }

    /// Who may submit outbound messages.
    public struct Intake: Sendable, Equatable {
        public var path: String
        public var allowFrom: [IPAddressRange]
        public var secretHeader: String
        public var secret: String?
    }

    /// Static knowledge of a remote domain (Apple's remoteservers.xml).
    public struct RemoteDomain: Sendable, Equatable {
        public var name: String
        /// Receiver URI used instead of DNS discovery.
        public var uri: String?
        /// Peers allowed to send unsigned requests for this domain.
        public var allowUnsignedFrom: [IPAddressRange]
        /// Signing domains (`d=`) accepted for Originators of this domain besides the domain itself.
        public var signingDomains: [String]
    }

    /// DKIM signing and verification settings.
    public struct DKIMSettings: Sendable, Equatable {
        public var signatureLifetime: Int64
        public var clockSkew: Int64
        /// Methods announced in our signatures' `q=`.
        public var publishedQueryMethods: [KeyQueryMethod]
        /// Methods our verifier may use for inbound signatures.
        public var lookupMethods: [KeyQueryMethod]
        public var privateExchangeDirectory: String?
        public var minimumKeyBits: Int
        public var acceptLegacyDialects: Bool
    }

    /// Size and count limits.
    public struct Limits: Sendable, Equatable {
        public var maxContentLength: Int
        public var maxRecipients: Int
        public var maxHeaderCount: Int
        public var maxRedirects: Int
        public var replayCacheEntries: Int
    }

    /// Timeouts in seconds.
    public struct Timeouts: Sendable, Equatable {
        public var connect: Double
        public var remoteRequest: Double
        public var freeBusy: Double
        public var upstream: Double
        /// A request must arrive completely (head and body) within this time.
        public var requestRead: Double
        public var idle: Double
        public var shutdownGrace: Double
    }

    /// The delivery queue's retry policy and limits.
    public struct DeliverySettings: Sendable, Equatable {
        /// First retry after this many seconds; each further one doubles, with ±20% jitter.
        public var retryInitial: Double
        public var retryMaximum: Double
        /// Give up on iSchedule (and use iMIP, or fail) after this many attempts or this age.
        public var maxAttempts: Int
        public var maxAge: Double
        /// Attempts in flight at once, in all and per remote domain.
        public var concurrency: Int
        public var perDomainConcurrency: Int
        public var pollInterval: Double
        /// How long a claimed record stays with its worker before others may take it.
        public var lease: Double
        /// Consecutive failures that open a domain's circuit, and how long it stays open.
        public var circuitFailures: Int
        public var circuitCooldown: Double
        /// Finished records are kept this long for `queue list/show`, then deleted.
        public var keepFinished: Double
    }

    /// E-mail fallback (used by the delivery queue).
    public struct IMIPSettings: Sendable, Equatable {
        public var smtpURL: String
        public var from: String
        public var username: String?
        public var password: String?
        public var requireTLS: Bool
    }

    public var listeners: [Listener]
    public var domains: [LocalDomain]
    public var intake: Intake
    public var remotes: [RemoteDomain]
    public var dkim: DKIMSettings
    public var limits: Limits
    public var timeouts: Timeouts
    public var dnsServers: [DNSResolverConfiguration.Server]
    public var caFile: String?
    /// Allow outbound connections to private and loopback addresses (test beds, private networks).
    public var allowPrivateAddresses: Bool
    public var dataDirectory: String
    public var administrator: String?
    public var capabilitiesSerial: Int
    public var delivery: DeliverySettings
    public var imip: IMIPSettings?
    public var logLevel: String
    /// The file this was read from, for messages.
    public var source: String

    /// The queue file.
    public var queuePath: String { dataDirectory + "/queue.sqlite" }

    /// The local domain named `name` (case-insensitive).
    public func domain(_ name: String) -> LocalDomain? {
        let wanted = name.lowercased()
        return domains.first { $0.name == wanted }
    }

    public func remote(_ name: String) -> RemoteDomain? {
        let wanted = name.lowercased()
        return remotes.first { $0.name == wanted }
    }
}
