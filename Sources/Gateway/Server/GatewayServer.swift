internal import Foundation
internal import Hummingbird
internal import HummingbirdCore
internal import HummingbirdTLS
package import Logging
internal import NIOCore
internal import NIOSSL
internal import ServiceLifecycle
internal import UnixSignals

/// Runs the gateway: one Hummingbird application per listener in a ServiceGroup. SIGTERM/SIGINT
/// stop accepting, let in-flight requests finish, then return; SIGHUP reloads.
package enum GatewayServer {
    /// Loads keys, starts the listeners, prints `listening on URL` per listener, runs until a signal.
    /// - Parameter reload: reads the configuration again on SIGHUP (nil: SIGHUP is ignored).
    package static func run(
        configuration: GatewayConfiguration, reload: (@Sendable () throws -> GatewayConfiguration)? = nil,
        logger: Logger
    ) async throws {
        // Trapped first: a SIGHUP during start-up must not end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let keyring = try SigningKeyring.load(configuration) { logger.notice("\($0)") }
        var loaded: [Int: ListenerCertificates] = [:]
        for (index, listener) in configuration.listeners.enumerated() {
            if listener.scheme == .https, let certificate = listener.certificateFile, let key = listener.privateKeyFile {
                loaded[index] = ListenerCertificates(
                    try ListenerCertificates.load(
                        certificate: certificate, key: key,
                        clientCA: listener.clientCAFile, keyPath: "listeners[\(index)]"))
            }
        }
        let certificates = loaded
        if case .postgres(let settings) = configuration.store { logger.notice("store: \(settings.description)") }
        try await StateStores.withOpen(configuration, logger: logger) { stores in
            // Before the worker takes back leases: one serve per SQLite file.
            if case .sqlite = configuration.store { try ServeLock.take(dataDirectory: configuration.dataDirectory) }
            let readiness = Readiness(expected: configuration.listeners.count)
            let assembly = GatewayAssembly(
                configuration: configuration, keyring: keyring, store: stores.queue, ledger: stores.ledger,
                readiness: readiness, logger: logger)
            defer { assembly.shutdown() }
            let reloader = reload.map {
                ConfigurationReload(
                    load: $0, started: configuration, apply: { assembly.reload(configuration: $0, keyring: $1) },
                    metrics: assembly.routes.metrics, certificates: certificates, signals: hangups, logger: logger)
            }
            try await run(
                configuration: configuration, assembly: assembly, readiness: readiness, certificates: certificates,
                reloader: reloader, logger: logger)
        }
    }

    private static func run(
        configuration: GatewayConfiguration, assembly: GatewayAssembly, readiness: Readiness,
        certificates: [Int: ListenerCertificates], reloader: ConfigurationReload?, logger: Logger
    ) async throws {
        try await assembly.replay.restore()
        if configuration.intake.secret == nil, configuration.listeners.contains(where: \.servesIntake) {
            logger.warning("outbound intake has no secret: only the address allow-list protects \(configuration.intake.path)")
        }
        let limits = configuration.limits
        let timeouts = configuration.timeouts
        let tooLarge = GatewayRoutes.tooLarge(limits.maxContentLength).body
        var http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuard(
                    readTimeout: .milliseconds(Int64(timeouts.requestRead * 1000)),
                    maxContentLength: limits.maxContentLength,
                    maxHeaderCount: limits.maxHeaderCount, tooLargeBody: tooLarge)
            ],
            idleTimeout: .milliseconds(Int64(timeouts.idle * 1000)))
        http1.httpDecoder = .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 64 * 1024, maxHeaderFieldCount: limits.maxHeaderCount * 2)

        // Services stop in reverse order: the listeners first (their requests may still queue),
        // then the worker, which lets its attempts in flight finish.
        var services: [any Service] = [assembly.worker]
        if let reloader { services.append(reloader) }
        for (index, listener) in configuration.listeners.enumerated() {
            if listener.servesIntake { logger.notice("outbound intake \(configuration.intake.path) served on \(listener.url)") }
            services.append(
                ListenerService(
                    application: try application(
                        listener, index: index,
                        router: assembly.routes.router(
                            intake: listener.servesIntake, metrics: listener.servesMetrics,
                            clientCertificates: listener.clientCAFile != nil),
                        tls: certificates[index], http1: http1, readiness: readiness, logger: logger),
                    key: "listeners[\(index)].url", url: listener.url))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int64(timeouts.shutdownGrace * 1000))
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        logger.notice("stopped")
    }

    /// One listener: TCP (http or https) or a Unix-domain socket; prints `listening on URL` once up.
    private static func application(
        _ listener: GatewayConfiguration.Listener, index: Int, router: Router<GatewayRequestContext>,
        tls: ListenerCertificates?, http1: HTTP1Channel.Configuration, readiness: Readiness,
        logger: Logger
    ) throws -> any Service {
        let server: HTTPServerBuilder
        if let tls {
            var configuration = tls.serverConfiguration()
            if let clientCA = listener.clientCAFile {
                // Asked for, verified when presented; DKIM peers without one still connect.
                configuration.certificateVerification = .optionalVerification
                configuration.trustRoots = .file(clientCA)
            }
            server = try .tls(.http1(configuration: http1), tlsConfiguration: configuration)
        } else {
            server = .http1(configuration: http1)
        }
        let address: BindAddress
        if listener.scheme == .unix {
            try clearStaleSocket(listener.host, key: "listeners[\(index)].url")
            address = .unixDomainSocket(path: listener.host)
        } else {
            address = .hostname(listener.host, port: listener.port)
        }
        let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
        return Application(
            router: router, server: server, configuration: ApplicationConfiguration(address: address, serverName: nil),
            onServerRunning: { channel in
                if listener.scheme == .unix {
                    // Owner and group may connect (the CalDAV server's group); nobody else.
                    _ = chmod(listener.host, 0o660)
                    FileHandle.standardOutput.write(Data("listening on unix:\(listener.host)\n".utf8))
                } else {
                    let port = channel.localAddress?.port ?? listener.port
                    FileHandle.standardOutput.write(Data("listening on \(listener.scheme.rawValue)://\(host):\(port)\n".utf8))
                }
                readiness.listenerStarted()
            },
            logger: logger)
    }

    /// Everything `serve` loads before it listens (keys, TLS files, the store), for `--check-config`:
    /// every problem is reported, and nothing is created or written.
    package static func preflight(_ configuration: GatewayConfiguration, logger: Logger, notice: @Sendable (String) -> Void) async throws {
        let log = ProblemLog()
        log.collect(()) { () throws(ConfigurationError) in _ = try SigningKeyring.load(configuration, create: false, notice: notice) }
        for (index, listener) in configuration.listeners.enumerated() {
            if let certificate = listener.certificateFile, let key = listener.privateKeyFile {
                log.collect(()) { () throws(ConfigurationError) in
                    _ = try ListenerCertificates.load(
                        certificate: certificate, key: key, clientCA: listener.clientCAFile,
                        keyPath: "listeners[\(index)]")
                }
            }
        }
        switch configuration.store {
        case .sqlite:
            if let problem = StateFileCheck.problem(configuration.queuePath) {
                log.record(ConfigurationError(key: "data-directory", problem: problem))
            }
        case .postgres(let settings):
            let deadline = Duration.milliseconds(Int64(configuration.timeouts.store * 1000))
            if let problem = try await PostgresDatabase(settings: settings, logger: logger, operationDeadline: deadline)
                .running(migrate: false, { database in await database.reachable() })
            {
                log.record(ConfigurationError(key: "store", problem: problem))
            }
        }
        if let problems = ConfigurationError.combining(log.problems) { throw problems }
        if let intake = configuration.imipIntake { notice(Self.senderBindingNotice(intake)) }
    }

    /// What `--check-config` says about who may cause a signature through the mail filter.
    static func senderBindingNotice(_ intake: IMIPIntakeSettings) -> String {
        guard !intake.trustedSenders.isEmpty else {
            return "imip-intake: an invitation goes by iSchedule only when the envelope sender is its organizer (or, for a REPLY, the "
                + "replying attendee); a CalDAV server that sends every invitation from one system address (Nextcloud) needs that "
                + "address in imip-intake.trusted-senders, or its invitations stay e-mail (deploy/README.md, section 3, per server)"
        }
        let inferring =
            intake.inferRequestsFrom.isEmpty
            ? ""
            : "; calendars without METHOD from \(intake.inferRequestsFrom.sorted().joined(separator: ", ")) count as REQUESTs, and what "
                + "that sender mails goes by iSchedule only as the organizer's own copy (imip-intake.organizer-calendars), to its attendees"
        let unconfirmed = intake.trustedSenders.subtracting(intake.inferRequestsFrom)
        let warning =
            unconfirmed.isEmpty
            ? ""
            : "; a server that mails its users' events as they stored them (Radicale) must be in infer-requests-from, or its users can "
                + "write METHOD and ORGANIZER themselves and have them signed (\(unconfirmed.sorted().joined(separator: ", ")) is not)"
        return "imip-intake: trusted-senders \(intake.trustedSenders.sorted().joined(separator: ", ")) may cause a signature for any organizer "
            + "in our domains: only the CalDAV server may submit to the filter (deploy/postfix/ischedule-submitters.cidr)" + inferring + warning
    }

    /// Removes a socket file left by an earlier run; anything else at that path is an error.
    static func clearStaleSocket(_ path: String, key: String) throws(ConfigurationError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFSOCK else {
            throw ConfigurationError(key: key, problem: "\(path) exists and is not a socket")
        }
        unlink(path)
    }
}
