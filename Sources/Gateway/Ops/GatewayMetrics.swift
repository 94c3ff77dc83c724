internal import Foundation
internal import Metrics
internal import Prometheus

/// The gateway's metrics (swift-metrics API) in a Prometheus registry that `/metrics` renders.
/// The registry is per instance, so tests can run several gateways in one process.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The last attempt per remote domain (the status report's view of the same events).
    let activity = DeliveryActivity()
    /// The `domain` label's values, bounded.
    let domainLabels = DomainLabels()

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)
        ]
        self.factory = factory
        // Series an alert watches with increase() exist from the start, at 0: a counter created
        // at its first event would start at 1, and increase() would never see that event.
        for outcome in ["applied", "refused"] {
            _ = Counter(label: "ischedule_config_reloads_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        for reason in ["no_ischedule", "permanent", "exhausted", "live_attempt"] {
            _ = Counter(label: "ischedule_imip_fallbacks_total", dimensions: [("reason", reason)], factory: factory)
        }
    }

    /// A request handled, by direction (`inbound`, `outbound`, `capabilities`, `domainkey`) and outcome
    /// (`ok`, or the iSchedule precondition / HTTP status that refused it).
    func request(direction: String, outcome: String) {
        Counter(
            label: "ischedule_requests_total", dimensions: [("direction", direction), ("outcome", outcome)],
            factory: factory
        ).increment()
    }

    /// An inbound signature that verified, by whether its key came from DNSSEC-validated DNS.
    func verifiedSignature(dnssecSecureKey: Bool) {
        Counter(label: "ischedule_verified_signatures_total", dimensions: [("key", dnssecSecureKey ? "dnssec" : "insecure")], factory: factory)
            .increment()
    }

    /// An inbound signature that did not verify, by reason.
    func verificationFailure(reason: String) {
        Counter(label: "ischedule_verification_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// One delivery attempt to a remote domain: its outcome (`delivered`, `pending`, `failed`,
    /// `no_ischedule`, `dns_failure`), how long it took and, for the status report, what was answered.
    /// The domain label is one of the most active domains, or `other` (`DomainLabels`).
    func delivery(domain: String, outcome: String, seconds: Double, detail: String, at: Int64) {
        activity.record(domain: domain, outcome: outcome, detail: detail, at: at)
        let label = domainLabels.label(for: domain)
        Counter(
            label: "ischedule_deliveries_total", dimensions: [("domain", label), ("outcome", outcome)],
            factory: factory
        ).increment()
        Metrics.Timer(label: "ischedule_delivery_duration_seconds", dimensions: [("domain", label)], factory: factory)
            .recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    /// One forward to a local upstream, by outcome.
    func forward(upstream: String, outcome: String) {
        Counter(
            label: "ischedule_upstream_forwards_total", dimensions: [("upstream", upstream), ("outcome", outcome)],
            factory: factory
        ).increment()
    }

    /// Deliveries the outbound path queued: retries (answered 1.0) and iMIP fallbacks (answered 1.1).
    func queued(retries: Int, fallbacks: Int) {
        if retries > 0 { Counter(label: "ischedule_queued_total", dimensions: [("kind", "retry")], factory: factory).increment(by: retries) }
        if fallbacks > 0 { fallback(reason: "live_attempt", count: fallbacks) }
    }

    /// Recipients handed to iMIP, by why (`no_ischedule`, `permanent`, `exhausted`, `live_attempt`).
    func fallback(reason: String, count: Int = 1) {
        Counter(label: "ischedule_imip_fallbacks_total", dimensions: [("reason", reason)], factory: factory).increment(by: count)
    }

    /// One queued attempt by the worker, by kind (`ischedule`, `imip`) and outcome.
    func queueAttempt(kind: String, outcome: String) {
        Counter(label: "ischedule_queue_attempts_total", dimensions: [("kind", kind), ("outcome", outcome)], factory: factory).increment()
    }

    /// Queue depth by state (every state, zeros included) and the age of the oldest pending record.
    func queue(depth: [String: Int], oldestPendingSeconds: Double) {
        for (state, count) in depth {
            Gauge(label: "ischedule_queue_depth", dimensions: [("state", state)], factory: factory).record(Double(count))
        }
        Gauge(label: "ischedule_queue_oldest_pending_seconds", factory: factory).record(oldestPendingSeconds)
    }

    /// SIGHUP reloads, applied or refused.
    func configurationReload(outcome: String) {
        Counter(label: "ischedule_config_reloads_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// The Prometheus text exposition.
    func render() -> [UInt8] { registry.emitToBuffer() }
}
