import Foundation
import TestSupport
import TestTraits
import Testing

/// `dkim rotate` through its three stages and `dkim status`, against real NSD servers (one
/// without the new record, one with it) and the gateway binary serving the keys in between.
@Suite(.serialized, .waitsOnProcesses) struct KeyRotationTests {
    static let soa = "@ IN SOA ns.example.com. admin.example.com. 1 3600 900 1209600 60\n@ IN NS ns.example.com.\nns IN A 127.0.0.1\n"

    @Test func rotateThroughItsStages() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        let first = try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "first", "--out", keys])
        #expect(first.status == 0)
        let before = try TestDNSServer(zones: ["example.com": Self.soa + first.output])
        defer { before.stop() }
        let file = directory.appendingPathComponent("gateway.yaml")
        let original = """
            # the gateway of example.com
            listeners:
              - url: http://127.0.0.1:0
            domains:
              example.com:
                # the first key signs
                dkim-keys:
                  - selector: first
                    private-key: keys/example.com.first.private.pem

                upstream: http://127.0.0.1:9/
            dns:
              servers: [\(before.server)]
              dnssec: validate

            """
        try original.write(to: file, atomically: true, encoding: .utf8)
        func gateway(_ arguments: [String]) throws -> CLIRunner.Result { try CLIRunner.run(arguments + ["--config", file.path]) }
        func selectors() throws -> [String] {
            try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains("- selector: ") }.map { String($0.split(separator: " ").last ?? "") }
        }

        let healthy = try gateway(["dkim", "status"])
        #expect(healthy.status == 0, "\(healthy.output)")
        #expect(healthy.output.contains("  first\tsigns\t2048-bit\tDNS: published\t"), "\(healthy.output)")

        // Stage 1: a new key, listed last, beside the old one with its mode.
        // (run from the configuration's directory with a relative --config, as an administrator would)
        let started = try CLIRunner.run(
            ["dkim", "rotate", "--domain", "example.com", "--selector", "second", "--config", "gateway.yaml"],
            in: directory)
        #expect(started.status == 0, "\(started.output)\(started.stderr)")
        #expect(started.output.contains("stage 1 of 3: new key second for example.com"), "\(started.output)")
        let record = try #require(started.output.split(separator: "\n").first { $0.hasPrefix("second._domainkey.example.com. IN TXT ") })
        #expect(try selectors() == ["first", "second"])
        let edited = try String(contentsOf: file, encoding: .utf8)
        #expect(
            edited.contains("# the gateway of example.com") && edited.contains("# the first key signs")
                && edited.contains("      - selector: second\n        private-key: keys/example.com.second.private.pem\n\n    upstream:"),
            "comments and layout stay: \(edited)")
        let newKey = "\(keys)/example.com.second.private.pem"
        #expect(try FileManager.default.attributesOfItem(atPath: newKey)[.posixPermissions] as? Int == 0o600)

        // Stage 2, too early: the configured DNS does not serve the record yet.
        let early = try gateway(["dkim", "rotate", "--domain", "example.com"])
        #expect(early.status == 75 && early.output.contains("does not publish the new key yet"), "\(early.output)")
        #expect(try selectors() == ["first", "second"])
        let waiting = try gateway(["dkim", "status"])
        #expect(waiting.status == 0, "the signing key is still published: \(waiting.output)")
        #expect(waiting.output.contains("  second\tpublished\t2048-bit\tDNS: not published"), "\(waiting.output)")
        #expect(waiting.output.contains("  rotation: stage 1 of 3 done: second waits for its TXT record"), "\(waiting.output)")

        // Stage 2: DNS serves it, in a zone signed by ldns-signzone and validated by unbound; the new key moves to the front.
        let after = try TestValidatingDNS(zones: ["example.com": .init(Self.soa + first.output + record + "\n", .signed)])
        defer { after.stop() }
        let switchedAt = Date()
        let switched = try gateway(["dkim", "rotate", "--domain", "example.com", "--dns-server", after.server, "--keep-old", "3s"])
        #expect(
            switched.status == 0 && switched.output.contains("stage 2 of 3: DNS publishes second._domainkey.example.com (DNSSEC-secure); "),
            "\(switched.output)\(switched.stderr)")
        #expect(try selectors() == ["second", "first"])
        let tooSoon = try gateway(["dkim", "rotate", "--domain", "example.com"])
        #expect(tooSoon.status == 75 && tooSoon.output.contains("first stays published until"), "\(tooSoon.output)")

        // The gateway on the edited file signs with the new key and still serves the old one.
        let served = try GatewayProcess(arguments: ["serve", "--config", file.path], directory: directory, listeners: 1)
        for selector in ["second", "first"] {
            let answer = try RawHTTPConnection.exchange(port: served.ports[0], method: "GET", path: "/.well-known/domainkey/example.com/\(selector)")
            #expect(answer.status == 200, "\(selector): \(answer.text)")
        }
        #expect(served.stop() == 0)

        // Stage 3: once --keep-old has passed, the old key retires.
        Thread.sleep(forTimeInterval: max(0, 4.1 - Date().timeIntervalSince(switchedAt)))
        let retired = try gateway(["dkim", "rotate", "--domain", "example.com"])
        #expect(retired.status == 0 && retired.output.contains("stage 3 of 3: retired first"), "\(retired.output)\(retired.stderr)")
        #expect(retired.output.contains("done: example.com signs with second"))
        #expect(try selectors() == ["second"])
        #expect(FileManager.default.fileExists(atPath: "\(keys)/retired/example.com.first.private.pem"))
        #expect(!FileManager.default.fileExists(atPath: "\(keys)/example.com.first.private.pem"))
        #expect(!FileManager.default.fileExists(atPath: "\(keys)/example.com.rotation"))
        let done = try CLIRunner.run(["dkim", "status", "--config", file.path, "--dns-server", after.server])
        #expect(
            done.status == 0 && done.output.contains("  second\tsigns\t2048-bit\tDNS: published") && !done.output.contains("rotation:"),
            "\(done.output)")
    }

    @Test func refusesWhatItCannotDoSafely() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        #expect(try CLIRunner.run(["dkim", "keygen", "--domain", "example.com", "--selector", "only", "--out", keys]).status == 0)
        let file = directory.appendingPathComponent("gateway.yaml")
        let flow = """
            listeners: [{url: "http://127.0.0.1:0"}]
            domains:
              example.com:
                dkim-keys: [{selector: only, private-key: keys/example.com.only.private.pem}]
                upstream: http://127.0.0.1:9/
            """
        try flow.write(to: file, atomically: true, encoding: .utf8)
        let refused = try CLIRunner.run(["dkim", "rotate", "--domain", "example.com", "--selector", "next", "--config", file.path])
        #expect(refused.status == 1 && refused.stderr.contains("dkim-keys must be a block list"), "\(refused.stderr)")
        #expect(try String(contentsOf: file, encoding: .utf8) == flow, "the file is left as it was")
        let stranger = try CLIRunner.run(["dkim", "rotate", "--domain", "example.org", "--config", file.path])
        #expect(stranger.status == 1 && stranger.stderr.contains("--domain example.org: not a domain of"), "\(stranger.stderr)")
        let status = try CLIRunner.run(["dkim", "status", "--config", file.path, "--dns-server", "127.0.0.1:1"])
        #expect(status.status == 1 && status.output.contains("  only\tsigns\t2048-bit\tDNS: not published"), "\(status.output)")
    }
}
