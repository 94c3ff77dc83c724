import Foundation
import TestSupport
import TestTraits
import Testing

/// A new machine gets everything the test beds need from `deploy/install-deps.sh`: every package a
/// bed checks for at its start is in the script's lists (Debian packages, PyPI helpers), and a bed
/// missing one says which package in one line.
@Suite("test bed prerequisites and install-deps.sh", .waitsOnProcesses)
struct PrerequisiteTests {
    static var script: String {
        get throws { try String(contentsOf: ReleaseBuildTests.repository.appendingPathComponent("deploy/install-deps.sh"), encoding: .utf8) }
    }

    /// The Debian packages of the script's `packages=(…)` line.
    static func debianPackages(_ script: String) -> Set<String> {
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix("packages=(") }) else { return [] }
        return Set(line.dropFirst("packages=(".count).prefix { $0 != ")" }.split(separator: " ").map(String.init))
    }

    /// The PyPI packages the script pins (`NAME==VERSION`).
    static func pypiPackages(_ script: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: "\"([A-Za-z0-9_.-]+)==[0-9][^\"]*\"")
        let range = NSRange(script.startIndex..., in: script)
        return Set(pattern.matches(in: script, range: range).compactMap { Range($0.range(at: 1), in: script).map { String(script[$0]) } })
    }

    @Test("every package a test bed checks for is installed by deploy/install-deps.sh")
    func bedsAgreeWithInstallDeps() throws {
        let script = try Self.script
        let debian = Self.debianPackages(script)
        let pypi = Self.pypiPackages(script)
        #expect(debian.count > 10 && debian.contains("php-curl"), "\(debian.sorted())")
        #expect(pypi.contains("aiosmtpd"), "\(pypi.sorted())")
        for (bed, needs) in Prerequisites.byBed {
            for need in needs {
                let listed = need.package.hasPrefix("pypi:") ? pypi.contains(String(need.package.dropFirst(5))) : debian.contains(need.package)
                #expect(listed, "the \(bed) test bed needs \(need), which deploy/install-deps.sh does not install")
            }
        }
    }

    @Test("a missing prerequisite stops the bed with one line naming its package")
    func missingPackageIsNamed() throws {
        let absent: [Prerequisite] = [
            .file("/nonexistent/ischedule-bed-tool", debian: "no-such-package"),
            .pythonModule("no_such_module_for_the_bed", pypi: "no-such-wheel"),
            .file("/bin/sh", debian: "dash")
        ]
        let error = #expect(throws: ChildProcessError.self) { try Prerequisites.require(absent, for: "Example") }
        let text = error?.description ?? ""
        #expect(!text.contains("\n"))
        #expect(text.contains("Debian package no-such-package") && text.contains("PyPI package no-such-wheel"), "\(text)")
        #expect(!text.contains("dash"), "a prerequisite that is met is not named: \(text)")
    }

    @Test("on this machine every bed's prerequisites are met (install-deps.sh ran)")
    func bedsAreReady() throws {
        for (bed, needs) in Prerequisites.byBed { try Prerequisites.require(needs, for: bed) }
    }
}
