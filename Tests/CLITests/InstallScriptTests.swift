import Foundation
import TestSupport
import Testing

/// deploy/install.sh staged into a DESTDIR, as a package build runs it.
@Suite("install script")
struct InstallScriptTests {
    @Test("DESTDIR and PREFIX: binary, unit pointing at it, configuration skeleton 0640 in 0750 directories, docs; an existing configuration is kept")
    func staged() throws {
        let repository = ReleaseBuildTests.repository
        let stage = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        func install() throws -> ChildProcess {
            let process = try ChildProcess("/usr/bin/env", ["DESTDIR=\(stage.path)", "PREFIX=/usr", "bash",
                                                            repository.appendingPathComponent("deploy/install.sh").path, GatewayBinary.url.path],
                                           logPath: stage.path + ".log")
            _ = process.waitForExit(timeout: 120)
            return process
        }
        let first = try install()
        #expect(first.exitStatus == 0, "\(first.log)")
        func mode(_ path: String) -> Int? {
            ((try? FileManager.default.attributesOfItem(atPath: stage.path + path))?[.posixPermissions] as? NSNumber)?.intValue
        }
        #expect(mode("/usr/bin/ischedule-gateway") == 0o755)
        #expect(FileManager.default.contentsEqual(atPath: stage.path + "/usr/bin/ischedule-gateway", andPath: GatewayBinary.url.path))
        #expect(mode("/etc/ischedule-gateway") == 0o750 && mode("/etc/ischedule-gateway/keys") == 0o750)
        #expect(mode("/etc/ischedule-gateway/gateway.yaml") == 0o640)
        #expect(mode("/usr/share/doc/ischedule-gateway/README.md") == 0o644)
        let unit = try String(contentsOfFile: stage.path + "/lib/systemd/system/ischedule-gateway.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/ischedule-gateway serve") && !unit.contains("/usr/local/"))
        // Nothing outside the stage: no user made, no /etc touched.
        #expect(!first.log.contains("useradd"))
        try "# the administrator's\n".write(toFile: stage.path + "/etc/ischedule-gateway/gateway.yaml", atomically: true, encoding: .utf8)
        let second = try install()
        #expect(second.exitStatus == 0 && second.log.contains("keeping the existing"))
        #expect(try String(contentsOfFile: stage.path + "/etc/ischedule-gateway/gateway.yaml", encoding: .utf8) == "# the administrator's\n")
    }
}
