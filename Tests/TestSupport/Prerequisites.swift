import Foundation

/// One thing a test bed needs on the machine, named by the package that provides it: a file (a
/// program, a module), a PHP extension, or a Python module. `deploy/install-deps.sh` installs every
/// package a bed names (`PrerequisiteTests` checks the two agree), so a missing one means the
/// script was not run, or is incomplete: the bed says which package in one line.
public struct Prerequisite: Sendable, Hashable, CustomStringConvertible {
    public enum Check: Sendable, Hashable {
        /// A file at this path (a program, a library, a data file).
        case file(String)
        /// A PHP extension, as `php -m` lists it (CLI and mod_php share Debian's conf.d).
        case phpExtension(String)
        /// A Python module `python3 -c "import NAME"` finds.
        case pythonModule(String)
    }

    public let check: Check
    /// The Debian package, or `pypi:NAME` for one from PyPI.
    public let package: String

    public static func file(_ path: String, debian package: String) -> Prerequisite { Prerequisite(check: .file(path), package: package) }
    public static func phpExtension(_ name: String, debian package: String) -> Prerequisite {
        Prerequisite(check: .phpExtension(name), package: package)
    }
    /// A file a PyPI package installs (into the tests' virtual environment).
    public static func file(_ path: String, pypi package: String) -> Prerequisite { Prerequisite(check: .file(path), package: "pypi:" + package) }
    public static func pythonModule(_ name: String, pypi package: String) -> Prerequisite {
        Prerequisite(check: .pythonModule(name), package: "pypi:" + package)
    }

    /// Whether the machine has it now.
    public var isMet: Bool {
        switch check {
        case .file(let path): return FileManager.default.fileExists(atPath: path)
        case .phpExtension(let name):
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/php") else { return false }
            let listed = (try? runToEnd("/usr/bin/php", ["-m"], log: Self.scratchLog)) ?? ""
            return listed.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == name.lowercased() }
        case .pythonModule(let name):
            return (try? runToEnd("/usr/bin/env", ["python3", "-c", "import \(name)"], log: Self.scratchLog)) != nil
        }
    }

    public var description: String {
        let what =
            switch check {
            case .file(let path): path
            case .phpExtension(let name): "PHP extension \(name)"
            case .pythonModule(let name): "Python module \(name)"
            }
        return package.hasPrefix("pypi:") ? "\(what) (PyPI package \(package.dropFirst(5)))" : "\(what) (Debian package \(package))"
    }

    private static var scratchLog: String {
        FileManager.default.temporaryDirectory.appendingPathComponent("prerequisite-\(UUID().uuidString.prefix(8)).log").path
    }
}

/// The prerequisites of every test bed that starts a real program, checked at the bed's start.
public enum Prerequisites {
    public static let nsd: [Prerequisite] = [
        .file("/usr/sbin/nsd", debian: "nsd"), .file("/usr/sbin/nsd-checkzone", debian: "nsd"), .file("/usr/bin/drill", debian: "ldnsutils")
    ]
    public static let postfix: [Prerequisite] = [
        .file("/usr/sbin/postfix", debian: "postfix"), .file("/usr/sbin/postqueue", debian: "postfix"),
        .file("/usr/lib/postfix/sbin/pipe", debian: "postfix"), .file("/usr/bin/setpriv", debian: "util-linux"),
        .file("/usr/bin/python3", debian: "python3")
    ]
    public static let cyrus: [Prerequisite] = [
        .file("/usr/lib/cyrus/bin/master", debian: "cyrus-imapd"), .file("/usr/lib/cyrus/bin/httpd", debian: "cyrus-caldav"),
        .file("/usr/sbin/saslpasswd2", debian: "sasl2-bin"), .file("/usr/bin/python3", debian: "python3")
    ]
    public static let davical: [Prerequisite] =
        [
            .file("/usr/share/davical/dba/create-database.sh", debian: "davical"), .file("/usr/sbin/apache2", debian: "apache2"),
            .file("/usr/bin/php", debian: "php-cli"), .phpExtension("curl", debian: "php-curl"), .phpExtension("pgsql", debian: "php-pgsql"),
            .file("/usr/bin/unshare", debian: "util-linux"), .file("/usr/bin/openssl", debian: "openssl")
        ] + postgresql
    public static let postgresql: [Prerequisite] = [.file("/usr/lib/postgresql", debian: "postgresql"), .file("/usr/bin/psql", debian: "postgresql")]
    public static let nghttpd: [Prerequisite] = [.file("/usr/sbin/nghttpd", debian: "nghttp2-server")]
    public static let aiosmtpd: [Prerequisite] = [.file("/usr/bin/python3", debian: "python3"), .pythonModule("aiosmtpd", pypi: "aiosmtpd")]
    public static let certificates: [Prerequisite] = [.file("/usr/bin/openssl", debian: "openssl")]
    public static let namespaces: [Prerequisite] = [
        .file("/usr/bin/unshare", debian: "util-linux"), .file("/usr/bin/nsenter", debian: "util-linux"), .file("/usr/sbin/ip", debian: "iproute2")
    ]
    public static let xmllint: [Prerequisite] = [.file("/usr/bin/xmllint", debian: "libxml2-utils")]
    public static let xandikos: [Prerequisite] = [
        .file(TestCalendarServers.venv + "/bin/xandikos", pypi: "xandikos"), .file(TestCalendarServers.venv + "/bin/python3", pypi: "aiosmtpd"),
        .file("/usr/bin/python3", debian: "python3")
    ]
    public static let radicale: [Prerequisite] = [
        .file(TestCalendarServers.venv + "/bin/radicale", pypi: "radicale"), .file("/usr/bin/python3", debian: "python3")
    ]
    public static let promtool: [Prerequisite] = [.file("/usr/bin/promtool", debian: "prometheus")]
    public static let man: [Prerequisite] = [.file("/usr/bin/man", debian: "man-db")]
    public static let acme: [Prerequisite] = [
        .file("/usr/bin/pebble", debian: "pebble"), .file("/usr/bin/certbot", debian: "certbot"), .file("/usr/bin/openssl", debian: "openssl")
    ]
    public static let validatingDNS: [Prerequisite] =
        nsd + [
            .file("/usr/sbin/unbound", debian: "unbound"), .file("/usr/bin/ldns-keygen", debian: "ldnsutils"),
            .file("/usr/bin/ldns-signzone", debian: "ldnsutils")
        ]

    /// Every bed's list, by bed: what `PrerequisiteTests` holds against `deploy/install-deps.sh`.
    public static let byBed: [(bed: String, needs: [Prerequisite])] = [
        ("NSD", nsd), ("Postfix", postfix), ("Cyrus", cyrus), ("DAViCal", davical), ("PostgreSQL", postgresql),
        ("nghttpd", nghttpd), ("aiosmtpd", aiosmtpd), ("certificates", certificates), ("namespaces", namespaces), ("xmllint", xmllint),
        ("validating DNS", validatingDNS), ("Xandikos", xandikos), ("Radicale", radicale), ("promtool", promtool), ("man", man),
        ("certbot and pebble", acme)
    ]

    /// Throws one line naming every missing package of `bed`, before the bed starts anything.
    public static func require(_ needs: [Prerequisite], for bed: String) throws {
        let missing = needs.filter { !$0.isMet }
        guard !missing.isEmpty else { return }
        throw ChildProcessError("\(bed) test bed: missing \(missing.map(\.description).joined(separator: ", ")); run deploy/install-deps.sh")
    }
}
