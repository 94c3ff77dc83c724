import Foundation
import TestSupport
import TestTraits
import Testing

/// deploy/install.sh staged into a DESTDIR, as a package build runs it.
@Suite("install script", .waitsOnProcesses)
struct InstallScriptTests {
    @Test("DESTDIR and PREFIX: binary, unit pointing at it, configuration skeleton 0640 in 0750 directories, docs; an existing configuration is kept")
    func staged() throws {
        let repository = ReleaseBuildTests.repository
        let stage = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        func install() throws -> ChildProcess {
            let process = try ChildProcess(
                "/usr/bin/env",
                [
                    "DESTDIR=\(stage.path)", "PREFIX=/usr", "bash",
                    repository.appendingPathComponent("deploy/install.sh").path, GatewayBinary.url.path
                ],
                logPath: stage.path + ".log")
            _ = process.waitForExit(timeout: 120)
            return process
        }
        let first = try install()
        #expect(first.exitStatus == 0, "\(first.log)")
        func mode(_ path: String) -> Int? {
            ((try? FileManager.default.attributesOfItem(atPath: stage.path + path))?[.posixPermissions] as? NSNumber)?.intValue
        }
        #expect(mode("/usr/bin/ischedule-gateway") == 0o755 && mode("/usr/lib/ischedule-gateway/certbot-deploy-hook") == 0o755)
        #expect(FileManager.default.contentsEqual(atPath: stage.path + "/usr/bin/ischedule-gateway", andPath: GatewayBinary.url.path))
        #expect(mode("/etc/ischedule-gateway") == 0o750 && mode("/etc/ischedule-gateway/keys") == 0o750)
        #expect(mode("/etc/ischedule-gateway/gateway.yaml") == 0o640)
        for page in ["README.md", "docs/configuration.md", "docs/troubleshooting.md", "deploy/README.md", "deploy/monitoring/grafana-dashboard.json"]
        {
            #expect(mode("/usr/share/doc/ischedule-gateway/\(page)") == 0o644, "\(page)")
        }
        let unit = try String(contentsOfFile: stage.path + "/lib/systemd/system/ischedule-gateway.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/ischedule-gateway serve") && !unit.contains("/usr/local/"))
        // Nothing outside the stage: no user made, no /etc touched.
        #expect(!first.log.contains("useradd"))
        // The installed binary's `init` replaces the example the installation put there, unchanged;
        // then never again.
        let installed = stage.path + "/usr/bin/ischedule-gateway"
        let arguments = [
            "init", "--domain", "example.org", "--upstream", "http://127.0.0.1:8008/", "--directory", stage.path + "/etc/ischedule-gateway"
        ]
        let replaced = try CLIRunner.run(arguments, binary: installed)
        #expect(replaced.status == 0 && replaced.stderr.contains("unchanged: replacing it"), "\(replaced.stderr)")
        #expect(try String(contentsOfFile: stage.path + "/etc/ischedule-gateway/gateway.yaml", encoding: .utf8).contains("example.org:"))
        let refused = try CLIRunner.run(arguments, binary: installed)
        #expect(refused.status != 0 && refused.stderr.contains("exists: init never replaces a file"), "\(refused.stderr)")
        try "# the administrator's\n".write(toFile: stage.path + "/etc/ischedule-gateway/gateway.yaml", atomically: true, encoding: .utf8)
        let second = try install()
        #expect(second.exitStatus == 0 && second.log.contains("keeping the existing"))
        #expect(try String(contentsOfFile: stage.path + "/etc/ischedule-gateway/gateway.yaml", encoding: .utf8) == "# the administrator's\n")
    }

    @Test(
        "build-deb: a package with the binary, the unit, the configuration as a conffile (root:root in the archive, the postinst hands it to the service group) and Debian 12 dependencies"
    )
    func debianPackage() throws {
        let repository = ReleaseBuildTests.repository
        let out = try CLIRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let build = try ChildProcess(
            "/usr/bin/env",
            [
                "DEB_OUT=\(out.path)", "DPKG_DEB_COMPRESSOR_TYPE=gzip", "DPKG_DEB_COMPRESSOR_LEVEL=1", "bash",
                repository.appendingPathComponent("deploy/build-deb.sh").path, GatewayBinary.url.path
            ],
            logPath: out.path + ".log")
        _ = build.waitForExit(timeout: 300)
        #expect(build.exitStatus == 0, "\(build.log)")
        let package = try #require(build.log.split(separator: "\n").last.map(String.init))
        #expect(package.hasPrefix(out.path + "/ischedule-gateway_") && package.hasSuffix(".deb"), "\(build.log)")
        func dpkgDeb(_ arguments: [String]) throws -> String {
            let process = try ChildProcess("/usr/bin/dpkg-deb", arguments, logPath: out.path + "-dpkg-\(UUID().uuidString).log")
            _ = process.waitForExit(timeout: 120)
            return process.log
        }
        let info = try dpkgDeb(["--info", package])
        #expect(
            info.contains("Package: ischedule-gateway") && info.contains("Depends: libc6 (>= 2.36), libssl3, libcurl4, libsqlite3-0, libxml2"),
            "\(info)")
        #expect(info.contains("conffiles") && info.contains("postinst"), "\(info)")
        let contents = try dpkgDeb(["--contents", package])
        for entry in [
            "-rwxr-xr-x root/root", "./usr/bin/ischedule-gateway", "./lib/systemd/system/ischedule-gateway.service",
            "-rw-r----- root/root", "./etc/ischedule-gateway/gateway.yaml", "./usr/share/doc/ischedule-gateway/README.md",
            "./usr/share/doc/ischedule-gateway/docs/operations.md", "./usr/share/doc/ischedule-gateway/deploy/monitoring/ischedule-gateway.rules.yml",
            "./usr/share/man/man1/ischedule-gateway.1.gz", "./usr/share/man/man1/ischedule-gateway-queue.1.gz",
            "./usr/share/man/man1/ischedule-gateway-queue-list.1.gz", "./usr/share/man/man1/ischedule-gateway-init.1.gz"
        ] {
            #expect(contents.contains(entry), "\(entry) in \(contents)")
        }
        #expect(try dpkgDeb(["--info", package, "conffiles"]).contains("/etc/ischedule-gateway/gateway.yaml"))
        // `man ischedule-gateway-queue` finds the package's page (man-db, on the unpacked package).
        try Prerequisites.require(Prerequisites.man, for: "man")
        let unpacked = out.appendingPathComponent("unpacked").path
        _ = try dpkgDeb(["-x", package, unpacked])
        let page = try runToEnd(
            "/usr/bin/env", ["MANPATH=\(unpacked)/usr/share/man", "MANWIDTH=100", "man", "-P", "cat", "ischedule-gateway-queue"],
            log: out.path + "-man.log")
        #expect(page.contains("ischedule-gateway queue") && page.contains("ischedule-gateway-queue-list"), "\(page)")
    }
}
