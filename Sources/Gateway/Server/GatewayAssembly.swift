internal import DKIM
internal import ISchedule
internal import Logging
internal import Transport

/// Builds the gateway's stages from its configuration, each with only what it uses: the one
/// place that knows how the pipeline fits together. What depends on the configuration (keys,
/// domains, receivers, policies) is rebuilt by `reload`; what must outlive a reload (the curl
/// thread, metrics, the replay cache and ledger, the queue) is built once.
struct GatewayAssembly: Sendable {
    let routes: GatewayRoutes
    let worker: DeliveryWorker
    let replay: ReplayProtection
    private let lasting: Lasting
    private let routed: Reloadable<RoutedStages>
    private let delivery: Reloadable<DeliveryStages>

    /// What lives as long as the process.
    private struct Lasting: Sendable {
        let curl: CurlThread
        let store: any DeliveryStore
        /// This process's lease owner, and its live attempts still transferring.
        let owner: String
        let transfers: LiveTransfers
        let replay: ReplayProtection
        let clock: GatewayClock
        let metrics: GatewayMetrics
        let logger: Logger
    }

    /// What the stages of one configuration share: the network clients, the resolver.
    private struct Shared {
        let configuration: GatewayConfiguration
        let keyring: SigningKeyring
        let clients: NetworkClients
        let remoteClient: HTTPClient
        let addressPolicy: AddressPolicy
        let hosted: HostedDelivery
        let lasting: Lasting

        init(configuration: GatewayConfiguration, keyring: SigningKeyring, lasting: Lasting) {
            self.configuration = configuration
            self.keyring = keyring
            self.lasting = lasting
            clients = NetworkClients(configuration: configuration, curl: lasting.curl, clock: lasting.clock)
            remoteClient = clients.http(timeout: configuration.timeouts.remoteRequest)
            addressPolicy = configuration.allowPrivateAddresses ? .any : .publicOnly
            let upstreams = UpstreamForwarder(
                client: clients.http(timeout: configuration.timeouts.upstream),
                signers: keyring.upstreamSigners, clock: lasting.clock, metrics: lasting.metrics)
            hosted = HostedDelivery(forwarder: upstreams, configuration: configuration, logger: lasting.logger)
        }
    }

    init(
        configuration: GatewayConfiguration, keyring: SigningKeyring, store: any DeliveryStore, ledger: any ReplayLedger,
        readiness: Readiness, logger: Logger, clock: GatewayClock = .system
    ) {
        let metrics = GatewayMetrics()
        let replay = ReplayProtection(
            cache: ReplayCache(
                capacity: configuration.limits.replayCacheEntries,
                perDomain: configuration.limits.replayEntriesPerDomain),
            ledger: ledger, clock: clock, logger: logger)
        let lasting = Lasting(
            curl: CurlThread(), store: store, owner: DeliveryWorker.newOwner(), transfers: LiveTransfers(), replay: replay,
            clock: clock, metrics: metrics, logger: logger)
        let shared = Shared(configuration: configuration, keyring: keyring, lasting: lasting)
        let routed = Reloadable(Self.routed(shared, circuitFrom: nil))
        let delivery = Reloadable(routed.current.delivery)
        self.lasting = lasting
        self.replay = replay
        self.routed = routed
        self.delivery = delivery
        worker = DeliveryWorker(
            store: store, stages: delivery, owner: lasting.owner, transfers: lasting.transfers, clock: clock,
            metrics: metrics, logger: logger)
        routes = GatewayRoutes(
            stages: routed, intakePath: configuration.intake.path, maxContentLength: configuration.limits.maxContentLength,
            health: {
                var problems: [String] = []
                if !readiness.isReady { problems.append("listeners starting") }
                if routed.current.keyring.signers.isEmpty { problems.append("no signing key") }
                if let problem = await store.health() { problems.append(problem) }
                if let problem = replay.recentFailure(now: clock.seconds) { problems.append(problem) }
                return problems
            },
            status: {
                let queue: Result<[DomainSummary], any Error>
                do { queue = .success(try await store.summary()) } catch { queue = .failure(error) }
                return StatusReport.make(
                    activity: metrics.activity.snapshot, circuits: delivery.current.circuit.snapshot(), queue: queue,
                    localDomains: Set(routed.current.keyring.signers.keys).union(routed.current.outbound.localDomains.keys).sorted(),
                    now: clock.milliseconds())
            },
            metrics: metrics)
    }

    /// Puts a new configuration and its keys in effect: requests and delivery attempts that start
    /// from now on use them; those in flight finish with the previous ones. The circuit states
    /// carry over while the circuit settings stay the same.
    func reload(configuration: GatewayConfiguration, keyring: SigningKeyring) {
        let shared = Shared(configuration: configuration, keyring: keyring, lasting: lasting)
        let stages = Self.routed(shared, circuitFrom: delivery.current.circuit)
        routed.replace(with: stages)
        delivery.replace(with: stages.delivery)
    }

    /// Everything one configuration serves.
    private static func routed(_ shared: Shared, circuitFrom previous: CircuitBreaker?) -> RoutedStages {
        let configuration = shared.configuration
        let capabilities = AdvertisedCapabilities.make(for: configuration)
        let (outbound, delivery) = outbound(shared, circuitFrom: previous)
        return RoutedStages(
            inbound: inbound(shared, capabilities: capabilities), outbound: outbound, delivery: delivery,
            capabilities: .init(
                draft05: Array(capabilities.draft05XML().utf8), draft01: Array(capabilities.draft01XML().utf8),
                serial: capabilities.serialNumber ?? "1"),
            keyring: shared.keyring, statusPage: configuration.statusPage)
    }

    /// Outbound: iSchedule first, the queue for what is not final, e-mail for what never will be.
    private static func outbound(_ shared: Shared, circuitFrom previous: CircuitBreaker?) -> (OutboundProcessor, DeliveryStages) {
        let configuration = shared.configuration
        let timeouts = configuration.timeouts
        let lasting = shared.lasting
        let discovery = shared.clients.discovery
        let capabilities = CapabilitiesCache(
            client: shared.remoteClient, clock: lasting.clock.unix,
            maximumRedirects: configuration.limits.maxRedirects, addressPolicy: shared.addressPolicy)
        let threshold = configuration.delivery.circuitFailures
        let cooldown = Int64(configuration.delivery.circuitCooldown * 1000)
        let circuit =
            previous.flatMap { $0.threshold == threshold && $0.cooldown == cooldown ? $0 : nil }
            ?? CircuitBreaker(threshold: threshold, cooldownMilliseconds: cooldown)
        let receivers = ReceiverClient(
            capabilities: capabilities, client: shared.remoteClient, signers: shared.keyring.signers,
            clientCertificates: Dictionary(
                configuration.domains.compactMap { domain in
                    domain.clientCertificate.map { (domain.name, $0) }
                }, uniquingKeysWith: { first, _ in first }),
            settings: .init(
                maxRecipients: configuration.limits.maxRecipients, maxRedirects: configuration.limits.maxRedirects,
                transferTimeout: timeouts.remoteTransfer, freeBusyTimeout: timeouts.freeBusy, addressPolicy: shared.addressPolicy),
            clock: lasting.clock)
        let iSchedule = IScheduleTransport(
            discovery: discovery, receivers: receivers,
            profiles: Dictionary(
                configuration.remotes.map { ($0.name, RemoteProfile(dialect: $0.dialect, tlsOnly: $0.tlsOnly)) },
                uniquingKeysWith: { first, _ in first }),
            circuit: circuit, metrics: lasting.metrics,
            clock: lasting.clock, logger: lasting.logger)
        let iMIP = IMIPTransport(
            settings: configuration.imip,
            mailer: configuration.imip.map { imip in
                SMTPClient(
                    configuration: SMTPConfiguration(
                        url: imip.smtpURL, startTLS: imip.requireTLS ? .required : .optional, username: imip.username, password: imip.password,
                        caFile: configuration.caFile, connectTimeoutMilliseconds: Int(timeouts.connect * 1000),
                        totalTimeoutMilliseconds: Int(timeouts.remoteRequest * 1000)), thread: lasting.curl,
                    resolver: shared.clients.resolver.hostResolver)
            }, clock: lasting.clock)
        let policy = DeliveryPolicy(settings: configuration.delivery)
        let handoff = QueueHandoff(
            store: lasting.store, policy: policy, mailsFallbacks: iMIP.isConfigured, clock: lasting.clock,
            metrics: lasting.metrics, logger: lasting.logger)
        let reinjection = Reinjection(
            mta: shared.clients.reinjection,
            reportingHost: GatewayIdentity.hostName, clock: lasting.clock)
        let stages = DeliveryStages(iSchedule: iSchedule, iMIP: iMIP, reinjection: reinjection, circuit: circuit, policy: policy)
        let live = LiveAttempt(
            transport: iSchedule, handoff: handoff,
            conclusion: AttemptConclusion(stages: stages, clock: lasting.clock, metrics: lasting.metrics), circuit: circuit,
            store: lasting.store,
            owner: lasting.owner, answerWithin: .milliseconds(Int64(timeouts.remoteRequest * 1000)),
            leaseMilliseconds: Int64(configuration.delivery.lease * 1000), transfers: lasting.transfers, logger: lasting.logger)
        let processor = OutboundProcessor(
            intake: OutboundIntake(intake: configuration.intake), signingDomains: configuration.signingDomains,
            localDomains: shared.hosted.domains, hosted: shared.hosted, remote: live, logger: lasting.logger)
        return (processor, stages)
    }

    /// Inbound: verify, police, remember, forward.
    private static func inbound(_ shared: Shared, capabilities: Capabilities) -> InboundProcessor {
        let configuration = shared.configuration
        let lasting = shared.lasting
        var sources: [KeyQueryMethod: any KeyRecordSource] = [:]
        for method in configuration.dkim.lookupMethods {
            switch method {
            case .dnsTXT: sources[.dnsTXT] = DNSKeyRecordSource(resolver: shared.clients.resolver)
            case .httpWellKnown:
                let policies = Dictionary(configuration.remotes.compactMap { remote in remote.tlsPolicy.map { (remote.name, $0) } }) { first, _ in
                    first
                }
                let fallback = configuration.tlsPolicy
                sources[.httpWellKnown] = WellKnownKeyRecordSource(
                    client: shared.remoteClient, resolver: shared.clients.resolver,
                    addressPolicy: shared.addressPolicy, policies: { domain in (policies[domain] ?? fallback).keyFetch })
            case .privateExchange:
                if let directory = configuration.dkim.privateExchangeDirectory {
                    sources[.privateExchange] = PrivateExchangeKeyStore(directory: directory)
                }
            }
        }
        func verifier(_ base: VerificationPolicy) -> DKIMVerifier {
            var policy = base
            policy.clockSkew = configuration.dkim.clockSkew
            policy.minimumKeyBits = configuration.dkim.minimumKeyBits
            policy.maximumLifetime = configuration.dkim.maxSignatureLifetime
            return DKIMVerifier(keys: KeyLocator(sources: sources), policy: policy, clock: lasting.clock.unix)
        }
        return InboundProcessor(
            verifier: verifier(configuration.dkim.acceptLegacyDialects ? .legacyInterop : .iSchedule),
            draft01Verifier: verifier(.legacyInterop),
            replay: lasting.replay, hosted: shared.hosted,
            mailed: MailedDelivery(settings: configuration.imip, store: lasting.store, clock: lasting.clock, logger: lasting.logger),
            freeBusy: CalDAVFreeBusy(
                client: shared.clients.http(timeout: configuration.timeouts.freeBusy),
                domains: configuration.domains, timeout: .milliseconds(Int64(configuration.timeouts.freeBusy * 1000)),
                clock: lasting.clock, logger: lasting.logger),
            capabilities: capabilities, localDomains: shared.hosted.domains,
            remotes: Dictionary(configuration.remotes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
            limits: configuration.limits, metrics: lasting.metrics, logger: lasting.logger)
    }

    /// Stops the curl thread once no request uses it any more.
    func shutdown() { lasting.curl.shutdown() }
}
