import Foundation
import TestSupport
import TestTraits
import Testing

/// `imip-intake` as an MTA runs it: what it answers when it cannot do its job. (Behind a real
/// Postfix: ServiceTests/MailFilterTests.)
@Suite("imip-intake command", .waitsOnProcesses)
struct IMIPIntakeCommandTests {
    @Test("exit 78 (configuration) and one line on stderr when the file has no imip-intake section or cannot be read; nothing queued")
    func configurationProblems() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.receiving("example.com", upstream: "http://127.0.0.1:8008/")
        yaml.merge(["listeners": [["url": "http://127.0.0.1:1"]], "data-directory": "state"])
        try yaml.write(to: file)
        let missing = try CLIRunner.run(["imip-intake", "--config", file.path, "-f", "a@example.com", "--", "b@example.org"])
        #expect(missing.status == 78, "\(missing.stderr)")
        #expect(missing.stderr == "imip-intake: the configuration has no imip-intake section (reinject-url)\n")
        let unreadable = try CLIRunner.run([
            "imip-intake", "--config", directory.appendingPathComponent("none.yaml").path,
            "-f", "", "--", "b@example.org"
        ])
        #expect(unreadable.status == 78 && unreadable.stderr.hasPrefix("imip-intake: configuration:"), "\(unreadable.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["gateway.yaml"])
    }
}
