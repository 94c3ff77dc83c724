/// The settings a reload cannot change in a running gateway: sockets already bound, the store
/// already open, buffers sized at start. A reload applies everything else and names these.
enum RestartOnlySettings {
    /// The keys whose values differ between `running` and `loaded`, in file order.
    static func changed(from running: GatewayConfiguration, to loaded: GatewayConfiguration) -> [String] {
        let listenersMoved = running.listeners.map(\.bindingIdentity) != loaded.listeners.map(\.bindingIdentity)
        let checks: [(String, Bool)] = [
            ("listeners", listenersMoved),
            ("data-directory", running.dataDirectory != loaded.dataDirectory),
            ("log-level", running.logLevel != loaded.logLevel),
            ("store", running.store != loaded.store),
            ("outbound.path", running.intake.path != loaded.intake.path),
            ("limits.max-content-length", running.limits.maxContentLength != loaded.limits.maxContentLength),
            ("limits.max-header-count", running.limits.maxHeaderCount != loaded.limits.maxHeaderCount),
            ("limits.replay-cache-entries", running.limits.replayCacheEntries != loaded.limits.replayCacheEntries),
            ("limits.replay-entries-per-domain", running.limits.replayEntriesPerDomain != loaded.limits.replayEntriesPerDomain),
            ("timeouts.request-read", running.timeouts.requestRead != loaded.timeouts.requestRead),
            ("timeouts.idle", running.timeouts.idle != loaded.timeouts.idle),
            ("timeouts.shutdown-grace", running.timeouts.shutdownGrace != loaded.timeouts.shutdownGrace),
            ("timeouts.store", running.timeouts.store != loaded.timeouts.store)
        ]
        return checks.filter(\.1).map(\.0)
    }
}

extension GatewayConfiguration.Listener {
    /// What a bound socket fixes: the address and what the listener serves, not its certificate
    /// files (those are re-read on reload).
    var bindingIdentity: String { "\(url) tls=\(certificateFile != nil) intake=\(servesIntake) metrics=\(servesMetrics)" }
}
