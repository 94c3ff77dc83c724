public import DKIM
internal import Foundation
public import ISchedule
public import Logging
public import Transport

/// The parts of a running gateway, built once from the configuration and shared by every request.
public final class GatewayRuntime: Sendable {
    public let configuration: GatewayConfiguration
    public let keyring: SigningKeyring
    public let capabilities: Capabilities
    /// The capabilities documents, rendered once (draft-05 and draft-01).
    public let capabilitiesXML: (draft05: [UInt8], draft01: [UInt8])
    public let metrics: GatewayMetrics
    public let logger: Logger
    public let clock: any UnixClock
    public let resolver: DNSResolver
    public let curl: CurlThread
    /// For remote receivers and key servers: the configured CA, public addresses only unless
    /// `outbound.allow-private-addresses` is set.
    public let remoteClient: HTTPClient
    /// For local upstreams (configured by the administrator, any address).
    public let upstreamClient: HTTPClient
    public let remoteAddressPolicy: AddressPolicy
    public let discovery: ReceiverDiscovery
    public let capabilitiesCache: CapabilitiesCache
    public let verifier: DKIMVerifier
    public let replayCache: ReplayCache
    /// Keeps the replay cache across restarts.
    public let replayLedger: any ReplayLedger
    /// The durable delivery queue.
    public let store: any DeliveryStore
    /// For the iMIP fallback, when `imip` is configured.
    public let mailer: SMTPClient?
    /// Shared by the live attempts and the queue worker.
    public let circuit: CircuitBreaker

    public init(configuration: GatewayConfiguration, keyring: SigningKeyring, store: any DeliveryStore,
                replayLedger: any ReplayLedger, logger: Logger, clock: any UnixClock = SystemUnixClock()) {
        self.configuration = configuration
        self.keyring = keyring
        self.store = store
        self.replayLedger = replayLedger
        self.logger = logger
        self.clock = clock
        metrics = GatewayMetrics()
        capabilities = Self.capabilities(for: configuration)
        capabilitiesXML = (Array(capabilities.draft05XML().utf8), Array(capabilities.draft01XML().utf8))
        resolver = DNSResolver(configuration: DNSResolverConfiguration(servers: configuration.dnsServers), clock: clock)
        curl = CurlThread()
        let timeouts = configuration.timeouts
        remoteClient = HTTPClient(configuration: HTTPClientConfiguration(
            caFile: configuration.caFile, connectTimeoutMilliseconds: Int(timeouts.connect * 1000),
            totalTimeoutMilliseconds: Int(timeouts.remoteRequest * 1000)), thread: curl, resolver: resolver.hostResolver)
        upstreamClient = HTTPClient(configuration: HTTPClientConfiguration(
            caFile: configuration.caFile, connectTimeoutMilliseconds: Int(timeouts.connect * 1000),
            totalTimeoutMilliseconds: Int(timeouts.upstream * 1000)), thread: curl, resolver: resolver.hostResolver)
        remoteAddressPolicy = configuration.allowPrivateAddresses ? .any : .publicOnly
        discovery = ReceiverDiscovery(resolver: resolver, overrides: Dictionary(
            configuration.remotes.compactMap { remote in remote.uri.map { (remote.name, $0) } }, uniquingKeysWith: { first, _ in first }))
        capabilitiesCache = CapabilitiesCache(client: remoteClient, clock: clock, maximumRedirects: configuration.limits.maxRedirects,
                                              addressPolicy: remoteAddressPolicy)
        var sources: [KeyQueryMethod: any KeyRecordSource] = [:]
        for method in configuration.dkim.lookupMethods {
            switch method {
            case .dnsTXT: sources[.dnsTXT] = DNSKeyRecordSource(resolver: resolver)
            case .httpWellKnown:
                sources[.httpWellKnown] = WellKnownKeyRecordSource(client: remoteClient, resolver: resolver, addressPolicy: remoteAddressPolicy)
            case .privateExchange:
                if let directory = configuration.dkim.privateExchangeDirectory {
                    sources[.privateExchange] = PrivateExchangeKeyStore(directory: directory)
                }
            }
        }
        var policy = configuration.dkim.acceptLegacyDialects ? VerificationPolicy.legacyInterop : VerificationPolicy.iSchedule
        policy.clockSkew = configuration.dkim.clockSkew
        policy.minimumKeyBits = configuration.dkim.minimumKeyBits
        verifier = DKIMVerifier(keys: KeyLocator(sources: sources), policy: policy, clock: clock)
        replayCache = ReplayCache(capacity: configuration.limits.replayCacheEntries)
        circuit = CircuitBreaker(threshold: configuration.delivery.circuitFailures,
                                 cooldownMilliseconds: Int64(configuration.delivery.circuitCooldown * 1000))
        let (thread, hosts) = (curl, resolver.hostResolver)
        mailer = configuration.imip.map { imip in
            SMTPClient(configuration: SMTPConfiguration(
                url: imip.smtpURL, startTLS: imip.requireTLS ? .required : .optional, username: imip.username, password: imip.password,
                caFile: configuration.caFile, connectTimeoutMilliseconds: Int(timeouts.connect * 1000),
                totalTimeoutMilliseconds: Int(timeouts.remoteRequest * 1000)), thread: thread, resolver: hosts)
        }
    }

    /// Wall-clock Unix milliseconds (queue times).
    public func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Stops the curl thread once no request uses it any more.
    public func shutdown() {
        curl.shutdown()
    }

    /// What this gateway advertises (and therefore accepts) at `?action=capabilities`.
    static func capabilities(for configuration: GatewayConfiguration) -> Capabilities {
        var capabilities = Capabilities()
        capabilities.serialNumber = String(configuration.capabilitiesSerial)
        capabilities.versions = ["1.0"]
        let eventMethods = ["REQUEST", "REPLY", "CANCEL", "ADD", "REFRESH", "COUNTER", "DECLINECOUNTER"]
        capabilities.schedulingMessages = [
            .init(name: "VEVENT", methods: eventMethods),
            .init(name: "VTODO", methods: eventMethods),
            .init(name: "VFREEBUSY", methods: ["REQUEST"]),
        ]
        capabilities.calendarDataTypes = [.init(contentType: "text/calendar", version: "2.0")]
        capabilities.attachments = [.external]
        capabilities.maxContentLength = configuration.limits.maxContentLength
        capabilities.minDateTime = "19000101T000000Z"
        capabilities.maxDateTime = "21000101T000000Z"
        capabilities.maxInstances = 3000
        capabilities.maxRecipients = configuration.limits.maxRecipients
        capabilities.administrator = configuration.administrator
            ?? configuration.domains.first.map { "mailto:postmaster@\($0.name)" }
        return capabilities
    }

    /// Adds `iSchedule-Version` and `iSchedule-Capabilities` to a receiver response (check 8).
    public func withISchedulingHeaders(_ response: GatewayResponse) -> GatewayResponse {
        var response = response
        response.headers.removeAll { ["ischedule-version", "ischedule-capabilities"].contains($0.name.lowercased()) }
        response.headers.append(.init("iSchedule-Version", "1.0"))
        response.headers.append(.init("iSchedule-Capabilities", capabilities.serialNumber ?? "1"))
        return response
    }

    /// Whether `domain` is one of ours (signing or hosted).
    public func isLocal(domain: String) -> Bool { configuration.domain(domain) != nil }

    /// The local domain hosting `domain`'s calendar users, when it has an upstream.
    public func hostedDomain(_ domain: String) -> GatewayConfiguration.LocalDomain? {
        guard let local = configuration.domain(domain), local.upstream != nil else { return nil }
        return local
    }
}
