import Foundation
import TestSupport
import TestTraits
import Testing

/// `queue …` on an installation whose gateway never ran, with the service's secrets not in this shell.
@Suite("queue command", .waitsOnProcesses)
struct QueueCommandTests {
    @Test("queue list on a fresh install: an empty list, no secret demanded that it does not use, nothing created")
    func freshInstall() throws {
        let directory = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gateway.yaml")
        var yaml = GatewayYAML.receiving("example.com", upstream: "http://127.0.0.1:8008/")
        yaml.merge(["listeners": [["url": "http://127.0.0.1:1"]], "data-directory": "state"])
        yaml["outbound", "secret-env"] = "QUEUE_TEST_UNSET_SECRET"
        try yaml.write(to: file)
        let list = try CLIRunner.run(["queue", "list", "--config", file.path])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.output == "ID\tSTATE\tKIND\tATTEMPTS\tNEXT ATTEMPT\tDOMAIN\tRECIPIENTS\n")
        #expect(list.stderr.contains("0 shown; queue: pending 0"), "\(list.stderr)")
        let show = try CLIRunner.run(["queue", "show", "7", "--config", file.path])
        #expect(show.status == 1 && show.stderr.contains("no delivery 7"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["gateway.yaml"])
        // serve still demands it.
        let serve = try CLIRunner.run(["serve", "--check-config", "--config", file.path])
        #expect(serve.status != 0 && serve.stderr.contains("environment variable QUEUE_TEST_UNSET_SECRET is not set"))
    }
}
