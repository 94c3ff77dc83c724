internal import DKIM
internal import ISchedule
internal import Logging
internal import Transport

/// Builds the gateway's stages from its configuration, once, each with only what it uses: the
/// one place that knows how the pipeline fits together.
struct GatewayAssembly: Sendable {
    let routes: GatewayRoutes
    let worker: DeliveryWorker
    let replay: ReplayProtection
    private let curl: CurlThread

    /// What several stages share: the network clients, the resolver, the clock, logs and metrics.
    private struct Shared {
        let configuration: GatewayConfiguration
        let keyring: SigningKeyring
        let resolver: DNSResolver
        let curl: CurlThread
        let remoteClient: HTTPClient
        let addressPolicy: AddressPolicy
        let hosted: HostedDelivery
        let clock: GatewayClock
        let metrics: GatewayMetrics
        let logger: Logger

        func client(timeout: Double) -> HTTPClient {
            Self.client(configuration, curl: curl, resolver: resolver, timeout: timeout)
        }

        static func client(_ configuration: GatewayConfiguration, curl: CurlThread, resolver: DNSResolver, timeout: Double) -> HTTPClient {
            HTTPClient(configuration: HTTPClientConfiguration(
                caFile: configuration.caFile, connectTimeoutMilliseconds: Int(configuration.timeouts.connect * 1000),
                totalTimeoutMilliseconds: Int(timeout * 1000), userAgent: GatewayIdentity.userAgent), thread: curl, resolver: resolver.hostResolver)
        }
    }

    init(configuration: GatewayConfiguration, keyring: SigningKeyring, store: any DeliveryStore, ledger: any ReplayLedger,
         readiness: Readiness, logger: Logger, clock: GatewayClock = .system) {
        let metrics = GatewayMetrics()
        let curl = CurlThread()
        let resolver = DNSResolver(configuration: DNSResolverConfiguration(servers: configuration.dnsServers), clock: clock.unix)
        let upstreams = UpstreamForwarder(client: Shared.client(configuration, curl: curl, resolver: resolver, timeout: configuration.timeouts.upstream),
                                          signers: keyring.upstreamSigners, clock: clock, metrics: metrics)
        let shared = Shared(configuration: configuration, keyring: keyring, resolver: resolver, curl: curl,
                            remoteClient: Shared.client(configuration, curl: curl, resolver: resolver, timeout: configuration.timeouts.remoteRequest),
                            addressPolicy: configuration.allowPrivateAddresses ? .any : .publicOnly,
                            hosted: HostedDelivery(forwarder: upstreams, configuration: configuration, logger: logger),
                            clock: clock, metrics: metrics, logger: logger)
        let (outbound, worker) = Self.outbound(shared, store: store)
        let capabilities = AdvertisedCapabilities.make(for: configuration)
        let inbound = Self.inbound(shared, ledger: ledger, capabilities: capabilities)
        self.curl = curl
        self.worker = worker
        replay = inbound.replay
        routes = GatewayRoutes(
            inbound: inbound, outbound: outbound,
            capabilities: (Array(capabilities.draft05XML().utf8), Array(capabilities.draft01XML().utf8), capabilities.serialNumber ?? "1"),
            keyRecords: { keyring.record(domain: $0, selector: $1) }, intakePath: configuration.intake.path,
            maxContentLength: configuration.limits.maxContentLength,
            health: {
                var problems: [String] = []
                if !readiness.isReady { problems.append("listeners starting") }
                if keyring.signers.isEmpty { problems.append("no signing key") }
                if let problem = await store.health() { problems.append(problem) }
                return problems
            },
            metrics: metrics)
    }

    /// Outbound: iSchedule first, the queue for what is not final, e-mail for what never will be.
    private static func outbound(_ shared: Shared, store: any DeliveryStore) -> (OutboundProcessor, DeliveryWorker) {
        let configuration = shared.configuration, timeouts = configuration.timeouts
        let discovery = ReceiverDiscovery(resolver: shared.resolver, overrides: Dictionary(
            configuration.remotes.compactMap { remote in remote.uri.map { (remote.name, $0) } }, uniquingKeysWith: { first, _ in first }))
        let capabilities = CapabilitiesCache(client: shared.remoteClient, clock: shared.clock.unix,
                                             maximumRedirects: configuration.limits.maxRedirects, addressPolicy: shared.addressPolicy)
        let circuit = CircuitBreaker(threshold: configuration.delivery.circuitFailures,
                                     cooldownMilliseconds: Int64(configuration.delivery.circuitCooldown * 1000))
        let receivers = ReceiverClient(capabilities: capabilities, client: shared.remoteClient, signers: shared.keyring.signers, settings: .init(
            maxRecipients: configuration.limits.maxRecipients, maxRedirects: configuration.limits.maxRedirects,
            requestTimeout: timeouts.remoteRequest, freeBusyTimeout: timeouts.freeBusy, addressPolicy: shared.addressPolicy), clock: shared.clock)
        let iSchedule = IScheduleTransport(discovery: discovery, receivers: receivers, circuit: circuit, metrics: shared.metrics,
                                           clock: shared.clock, logger: shared.logger)
        let iMIP = IMIPTransport(settings: configuration.imip, mailer: configuration.imip.map { imip in
            SMTPClient(configuration: SMTPConfiguration(
                url: imip.smtpURL, startTLS: imip.requireTLS ? .required : .optional, username: imip.username, password: imip.password,
                caFile: configuration.caFile, connectTimeoutMilliseconds: Int(timeouts.connect * 1000),
                totalTimeoutMilliseconds: Int(timeouts.remoteRequest * 1000)), thread: shared.curl, resolver: shared.resolver.hostResolver)
        }, clock: shared.clock)
        let policy = DeliveryPolicy(settings: configuration.delivery)
        let handoff = QueueHandoff(store: store, policy: policy, mailsFallbacks: iMIP.isConfigured, clock: shared.clock,
                                   metrics: shared.metrics, logger: shared.logger)
        let processor = OutboundProcessor(
            intake: OutboundIntake(intake: configuration.intake), signingDomains: Set(shared.keyring.signers.keys),
            localDomains: shared.hosted.domains, hosted: shared.hosted, remote: iSchedule, handoff: handoff, logger: shared.logger)
        let worker = DeliveryWorker(store: store, iSchedule: iSchedule, iMIP: iMIP, circuit: circuit, policy: policy, clock: shared.clock,
                                    metrics: shared.metrics, logger: shared.logger)
        return (processor, worker)
    }

    /// Inbound: verify, police, remember, forward.
    private static func inbound(_ shared: Shared, ledger: any ReplayLedger, capabilities: Capabilities) -> InboundProcessor {
        let configuration = shared.configuration
        var sources: [KeyQueryMethod: any KeyRecordSource] = [:]
        for method in configuration.dkim.lookupMethods {
            switch method {
            case .dnsTXT: sources[.dnsTXT] = DNSKeyRecordSource(resolver: shared.resolver)
            case .httpWellKnown:
                sources[.httpWellKnown] = WellKnownKeyRecordSource(client: shared.remoteClient, resolver: shared.resolver,
                                                                   addressPolicy: shared.addressPolicy)
            case .privateExchange:
                if let directory = configuration.dkim.privateExchangeDirectory { sources[.privateExchange] = PrivateExchangeKeyStore(directory: directory) }
            }
        }
        var policy = configuration.dkim.acceptLegacyDialects ? VerificationPolicy.legacyInterop : VerificationPolicy.iSchedule
        policy.clockSkew = configuration.dkim.clockSkew
        policy.minimumKeyBits = configuration.dkim.minimumKeyBits
        policy.maximumLifetime = configuration.dkim.maxSignatureLifetime
        let replay = ReplayProtection(cache: ReplayCache(capacity: configuration.limits.replayCacheEntries,
                                                         perDomain: configuration.limits.replayEntriesPerDomain),
                                      ledger: ledger, clock: shared.clock, logger: shared.logger)
        return InboundProcessor(
            verifier: DKIMVerifier(keys: KeyLocator(sources: sources), policy: policy, clock: shared.clock.unix),
            replay: replay, hosted: shared.hosted, capabilities: capabilities, localDomains: shared.hosted.domains,
            remotes: Dictionary(configuration.remotes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
            limits: configuration.limits, metrics: shared.metrics, logger: shared.logger)
    }

    /// Stops the curl thread once no request uses it any more.
    func shutdown() { curl.shutdown() }
}
