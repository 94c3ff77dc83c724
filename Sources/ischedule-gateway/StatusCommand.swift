import ArgumentParser
import DKIM
import Foundation
import Gateway
import Logging
import Transport

/// `ischedule-gateway status`: the gateway at a glance. Our domains as senders see them (SRV, TLS,
/// capabilities, each key's TXT record), and what the running gateway knows of each remote
/// domain (last attempt, circuit, queue).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show our domains as the world sees them and every remote domain's last delivery, circuit and queue.",
        discussion: """
            Our domains are looked up through the configuration's resolver and trust anchors, as a
            remote sender would. The remote part comes from the running gateway's /status.json on its
            first TCP intake listener (with the intake secret; --env-file supplies it); when the
            gateway does not answer, the queue is read from the store instead. Exit 1 when one of our
            domains would not receive iSchedule or the gateway does not answer.
            """
    )

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Option(name: .customLong("env-file"), help: "Environment file with the intake secret (as the unit's EnvironmentFile).")
    var envFile: String?

    @OptionGroup var dns: ConfiguredDNSOption

    func run() async throws {
        let configuration = try ConfigFile.load(config, envFile: envFile, requireSecrets: false)
        let resolver = dns.resolver(for: configuration)
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(
                caFile: configuration.caFile, connectTimeoutMilliseconds: 5_000,
                totalTimeoutMilliseconds: 10_000),
            resolver: resolver.hostResolver)
        let policy: AddressPolicy = configuration.allowPrivateAddresses ? .any : .publicOnly
        var healthy = true
        print("our domains, as senders see them:")
        for domain in configuration.localDomainNames {
            let lines = await LocalDomainView(
                domain: domain, keys: configuration.keys(of: domain) ?? [], resolver: resolver,
                client: client, policy: policy, certificates: configuration.httpsCertificates
            ).lines()
            healthy = healthy && lines.healthy
            for line in lines.text { print("  " + line) }
        }
        healthy = try await remoteDomains(configuration, client: client) && healthy
        if !healthy { throw ExitCode(1) }
    }

    /// The running gateway's report, or the store's queue when it does not answer.
    private func remoteDomains(_ configuration: GatewayConfiguration, client: HTTPClient) async throws -> Bool {
        guard let local = configuration.localStatusURL else {
            print("remote domains: no TCP intake listener to ask; the queue, from the store:")
            try await printQueue(configuration)
            return true
        }
        let report: StatusReport
        do {
            let response = try await client.send(HTTPClientRequest(url: local.url, headers: local.headers, addressPolicy: .any))
            guard response.status == 200 else {
                throw CLIError("HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            }
            report = try JSONDecoder().decode(StatusReport.self, from: Data(response.body))
        } catch {
            print("remote domains: the gateway at \(local.url) did not answer (\(error)); the queue, from the store:")
            try await printQueue(configuration)
            return false
        }
        print("remote domains (gateway \(report.version) at \(local.url)):")
        if report.remotes.isEmpty { print("  none attempted since the gateway started, nothing queued") }
        for remote in report.remotes {
            print("  " + Self.line(remote, now: report.generatedAt) + "\ttls-policy: \(configuration.tlsPolicy(for: remote.domain).rawValue)")
        }
        if let problem = report.queueProblem { print("  queue unreadable: \(problem)") }
        return true
    }

    static func line(_ remote: StatusReport.Remote, now: Int64) -> String {
        let last =
            remote.lastAttemptAt.map {
                "\(remote.lastOutcome ?? "?") \(StatusReport.age(now - $0)) ago" + (remote.lastDetail.map { " (\($0))" } ?? "")
            }
            ?? "no attempt since start"
        let circuit =
            remote.circuit == "open"
            ? "open for \(StatusReport.age((remote.openUntil ?? now) - now)) more"
            : remote.circuit == "failing" ? "failing (\(remote.consecutiveFailures) in a row)" : "closed"
        let queue =
            remote.pending + remote.held == 0
            ? "empty"
            : "\(remote.pending) pending, \(remote.held) held"
                + (remote.oldestPendingCreatedAt.map { ", oldest \(StatusReport.age(now - $0))" } ?? "")
        return "\(remote.domain)\tlast: \(last)\tcircuit: \(circuit)\tqueue: \(queue)" + (remote.failed > 0 ? "\tfailed: \(remote.failed)" : "")
    }

    private func printQueue(_ configuration: GatewayConfiguration) async throws {
        let summaries = try await QueueAccess.withQueue(configuration, logger: Logger(label: "ischedule-gateway")) { try await $0.summary() }
        if summaries.isEmpty { print("  nothing queued") }
        for summary in summaries {
            print("  \(summary.domain)\t\(summary.kind)\tqueue: \(summary.pending) pending, \(summary.held) held, \(summary.failed) failed")
        }
    }
}
