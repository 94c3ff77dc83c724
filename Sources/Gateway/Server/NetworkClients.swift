internal import Transport

/// The network clients of one configuration, built one way for `serve` (`GatewayAssembly`) and
/// the mail filter (`MailFilter`): the resolver on the configured servers, HTTP clients on the
/// shared curl thread with the configured CA file and connect timeout, receiver discovery with
/// the configured overrides, and the MTA's re-injection service.
struct NetworkClients: Sendable {
    let configuration: GatewayConfiguration
    let curl: CurlThread
    let resolver: DNSResolver

    init(configuration: GatewayConfiguration, curl: CurlThread, clock: GatewayClock) {
        self.configuration = configuration
        self.curl = curl
        resolver = DNSResolver(configuration: configuration.resolverConfiguration, clock: clock.unix)
    }

    /// An HTTP client whose transfers end within `timeout` seconds.
    func http(timeout: Double) -> HTTPClient {
        HTTPClient(
            configuration: HTTPClientConfiguration(
                caFile: configuration.caFile, connectTimeoutMilliseconds: Int(configuration.timeouts.connect * 1000),
                totalTimeoutMilliseconds: Int(timeout * 1000), userAgent: GatewayIdentity.userAgent), thread: curl, resolver: resolver.hostResolver)
    }

    /// SRV discovery, with the receivers configured by `remote-domains.<d>.uri` taking precedence,
    /// under each domain's `tls-policy`.
    var discovery: ReceiverDiscovery {
        ReceiverDiscovery(
            resolver: resolver,
            overrides: Dictionary(
                configuration.remotes.compactMap { remote in remote.uri.map { (remote.name, $0) } }, uniquingKeysWith: { first, _ in first }),
            policies: Dictionary(
                configuration.remotes.compactMap { remote in remote.tlsPolicy.map { (remote.name, $0) } }, uniquingKeysWith: { first, _ in first }),
            defaultPolicy: configuration.tlsPolicy)
    }

    /// The MTA's filter-free re-injection service (`imip-intake.reinject-url`), when configured.
    var reinjection: SMTPClient? { configuration.imipIntake.map { $0.client(configuration, curl: curl, resolver: resolver) } }
}
