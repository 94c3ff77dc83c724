internal import Foundation
internal import Logging
internal import ServiceLifecycle
internal import UnixSignals

/// Reload without downtime: on SIGHUP (`systemctl reload`) the configuration file, the keys and
/// the listeners' TLS files are read again. When every one of them is good they take effect for
/// the requests and delivery attempts that start afterwards (those in flight finish as they
/// began); otherwise every problem is logged, one line each, and the running configuration
/// keeps serving unchanged. Settings a running process cannot change are named.
final class ConfigurationReload: Service, Sendable {
    /// Reads the configuration again, as `serve` read it at start (file, environment file).
    typealias Loader = @Sendable () throws -> GatewayConfiguration
    /// Puts a checked configuration and its keys in effect (`GatewayAssembly.reload`).
    typealias Apply = @Sendable (GatewayConfiguration, SigningKeyring) -> Void

    private let load: Loader
    /// The configuration the process started with: its sockets and store stay until a restart.
    private let started: GatewayConfiguration
    private let apply: Apply
    private let metrics: GatewayMetrics
    /// The HTTPS listeners' certificates, by listener index.
    private let certificates: [Int: ListenerCertificates]
    private let signals: UnixSignalsSequence
    private let logger: Logger
    /// The client CA files the listeners started with, by index: their contents are fixed in the
    /// listeners' TLS contexts (NIOSSL overrides only the certificate and key per handshake).
    private let clientCAs: [Int: [UInt8]]

    /// - Parameter signals: SIGHUP, trapped before the listeners start so that an early signal
    ///   never ends the process.
    init(
        load: @escaping Loader, started: GatewayConfiguration, apply: @escaping Apply, metrics: GatewayMetrics,
        certificates: [Int: ListenerCertificates], signals: UnixSignalsSequence, logger: Logger
    ) {
        self.load = load
        self.started = started
        self.apply = apply
        self.metrics = metrics
        self.certificates = certificates
        self.signals = signals
        self.logger = logger
        clientCAs = Self.clientCAs(of: started)
    }

    /// Each listener's client CA file as it reads now (path and content).
    static func clientCAs(of configuration: GatewayConfiguration) -> [Int: [UInt8]] {
        var files: [Int: [UInt8]] = [:]
        for (index, listener) in configuration.listeners.enumerated() {
            guard let path = listener.clientCAFile else { continue }
            files[index] = Array(path.utf8) + [0] + ((FileManager.default.contents(atPath: path)).map(Array.init) ?? [])
        }
        return files
    }

    /// The keys a reload cannot apply and that changed: the restart-only settings, and a client
    /// CA file whose path or content differs from the one its listener started with.
    func needingRestart(_ loaded: GatewayConfiguration) -> [String] {
        let now = Self.clientCAs(of: loaded)
        let changedCAs = loaded.listeners.indices.filter { index in
            index < started.listeners.count && loaded.listeners[index].bindingIdentity == started.listeners[index].bindingIdentity
                && now[index] != clientCAs[index]
        }.map { "listeners[\($0)].client-ca-file" }
        return RestartOnlySettings.changed(from: started, to: loaded) + changedCAs
    }

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() { reload() }
    }

    /// One reload: everything is loaded and checked first, then put in effect at once.
    func reload() {
        let log = ProblemLog()
        let loaded: GatewayConfiguration?
        switch Result(catching: load) {
        case .success(let configuration): loaded = configuration
        case .failure(let error as ConfigurationError):
            log.record(error)
            loaded = nil
        case .failure(let error):
            log.record(ConfigurationError(key: "", problem: "\(error)"))
            loaded = nil
        }
        var keyring: SigningKeyring?
        var materials: [Int: ListenerCertificates.Material] = [:]
        if let loaded {
            keyring = log.collect(nil) { () throws(ConfigurationError) in
                try SigningKeyring.load(loaded, notice: { [logger] in logger.notice("reload: \($0)") })
            }
            for index in certificates.keys.sorted() where index < loaded.listeners.count {
                let listener = loaded.listeners[index]
                guard listener.bindingIdentity == started.listeners[index].bindingIdentity,
                    let certificate = listener.certificateFile, let key = listener.privateKeyFile
                else { continue }
                materials[index] = log.collect(nil) { () throws(ConfigurationError) in
                    try ListenerCertificates.load(certificate: certificate, key: key, keyPath: "listeners[\(index)]")
                }
            }
        }
        guard let loaded, let keyring, log.problems.isEmpty else {
            let lines = ConfigurationError.combining(log.problems)?.lines ?? []
            logger.error("reload refused, the running configuration stays in effect: \(lines.count) problem(s)")
            for line in lines { logger.error("reload: \(line)") }
            metrics.configurationReload(outcome: "refused")
            return
        }
        apply(loaded, keyring)
        for (index, material) in materials { certificates[index]?.replace(with: material) }
        for key in needingRestart(loaded) {
            logger.warning("reload: \(key) changed; it takes effect at the next restart")
        }
        metrics.configurationReload(outcome: "applied")
        logger.notice("reloaded \(loaded.source): \(loaded.summary)")
    }
}
