import Foundation
import TestSupport
import TestTraits
import Testing

/// SRV records that point a receiver at internal addresses, in every spelling: the gateway opens
/// no connection to any of them. Listeners sit on each address inside a namespace the test made,
/// and record every connection they accept.
@Suite(.serialized, .waitsOnProcesses) struct PrivateAddressTests {
    /// SRV target → the A/AAAA record it gets (nil: the target is itself a numeric host form).
    static let targets: [(name: String, record: String?)] = [
        ("private", "A 10.0.0.1"), ("metadata", "A 169.254.169.254"), ("cgnat", "A 100.64.0.1"), ("zero", "A 0.0.0.0"),
        ("loop", "A 127.0.0.1"), ("loop6", "AAAA ::1"), ("mapped", "AAAA ::ffff:127.0.0.1"),
        ("2130706433", nil), ("0177.0.0.1", nil), ("0x7f000001", nil), ("127.1", nil), ("10.0.0.1", nil)
    ]

    @Test func noAddressFormIsEverConnectedTo() throws {
        let namespace = try IsolatedNamespace(addresses: ["10.0.0.1/32", "169.254.169.254/32", "100.64.0.1/32"])
        defer { namespace.stop() }
        let port = 8443
        let listeners = ["127.0.0.1", "[::1]", "10.0.0.1", "169.254.169.254", "100.64.0.1"].map { "\($0):\(port)" }
        let witness = try namespace.recorder(tcp: listeners)
        defer { witness.stop() }
        var zone = "@ IN SOA ns a 1 3600 900 1209600 60\n@ IN NS ns\nns IN A 127.0.0.1\n"
        for (priority, target) in Self.targets.enumerated() {
            let host = target.record == nil ? "\(target.name)." : "\(target.name).partner.test."
            zone += "_ischedules._tcp IN SRV \(priority) 0 \(port) \(host)\n"
            if let record = target.record { zone += "\(target.name) IN \(record)\n" }
        }
        let dns = try TestDNSServer(zones: ["partner.test": zone], launcher: namespace.launcher)
        defer { dns.stop() }
        let binary = GatewayBinary.url.path

        let guarded = try namespace.run(binary, ["probe", "partner.test", "--dns-server", dns.server])
        #expect(guarded.status == 1, "\(guarded.output)")
        let refusals = guarded.output.split(separator: "\n").filter { $0.contains("refused to connect") }
        #expect(refusals.count >= Self.targets.count, "\(guarded.output)")
        #expect(!witness.log.contains("accept "), "a refused address was connected to: \(witness.log)\n\(guarded.output)")

        // The same probe allowed to use private addresses does reach the listeners: they work.
        let allowed = try namespace.run(binary, ["probe", "partner.test", "--dns-server", dns.server, "--allow-private-addresses"])
        #expect(allowed.status == 1)
        for listener in listeners {
            #expect(witness.log.contains("accept \(listener)"), "no connection reached \(listener): \(witness.log)")
        }
    }
}
