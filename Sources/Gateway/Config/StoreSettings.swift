internal import Foundation
internal import Transport

/// Where the gateway keeps what it promised (delivery queue, replay ledger): one SQLite file in the
/// data directory (default), or a PostgreSQL database that several instances share.
package enum StoreSettings: Sendable, Equatable {
    case sqlite
    case postgres(PostgresSettings)

    /// `store:` (`sqlite` or `postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…&host=/socket/dir]`)
    /// with `store-password` / `store-password-env`.
    static func parse(
        _ root: ConfigReader, paths: PathResolver, environment: [String: String],
        caFile: String?
    ) throws(ConfigurationError) -> StoreSettings {
        let text = try root.string("store", default: "sqlite")
        let password = try root.secret("store-password", environment: environment)
        if text == "sqlite" {
            if password != nil { throw ConfigurationError(key: "store-password", problem: "only used with a postgresql:// store") }
            return .sqlite
        }
        return .postgres(try PostgresSettings(url: text, password: password, paths: paths, caFile: caFile))
    }
}

/// A PostgreSQL store: where it is, who we are there, and how the connection is protected.
package struct PostgresSettings: Sendable, Equatable {
    package enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself (`DIR/.s.PGSQL.PORT`).
        case unixSocket(String)
    }

    package enum Security: Sendable, Equatable {
        /// Plain connection: only loopback or a Unix socket.
        case none
        /// TLS, the server's certificate verified against `caFile` (nil: the system's trust store) and its name.
        case verifyFull(caFile: String?)
    }

    package var endpoint: Endpoint
    package var username: String
    var password: String?
    package var database: String
    package var security: Security

    init(url text: String, password: String?, paths: PathResolver, caFile: String?) throws(ConfigurationError) {
        func fail(_ problem: String) -> ConfigurationError {
            ConfigurationError(key: "store", problem: "\(problem) (expected sqlite or postgresql://USER@HOST[:PORT]/DATABASE)")
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["postgresql", "postgres"].contains(scheme) else {
            throw fail("'\(text)' is neither sqlite nor a postgresql:// URL")
        }
        guard url.password == nil else {
            throw ConfigurationError(key: "store", problem: "the URL holds a password; give it with store-password-env instead")
        }
        guard let user = url.user, !user.isEmpty else { throw fail("no user name in the URL") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw fail("no database name in the URL") }
        var query: [String: String] = [:]
        for item in url.queryItems ?? [] {
            guard ["sslmode", "sslrootcert", "host"].contains(item.name) else {
                throw ConfigurationError(key: "store", problem: "URL parameter '\(item.name)' is not supported (sslmode, sslrootcert, host)")
            }
            query[item.name] = item.value ?? ""
        }
        let port = url.port ?? 5432
        let isLocal: Bool
        if let socketDirectory = query["host"] {
            guard socketDirectory.hasPrefix("/"), url.host?.isEmpty ?? true else {
                throw ConfigurationError(
                    key: "store", problem: "host= must be the absolute directory of the server's socket, with no host in the URL")
            }
            endpoint = .unixSocket("\(socketDirectory)/.s.PGSQL.\(port)")
            isLocal = true
        } else {
            guard let host = url.host, !host.isEmpty else { throw fail("no host in the URL") }
            let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            endpoint = .tcp(host: bare, port: port)
            isLocal = bare == "localhost" || IPAddressRange.isLoopback(bare)
        }
        switch query["sslmode"] ?? (isLocal ? "disable" : "verify-full") {
        case "disable":
            guard isLocal else {
                throw ConfigurationError(
                    key: "store", problem: "sslmode=disable is allowed only on loopback or a Unix socket; use sslmode=verify-full")
            }
            security = .none
        case "verify-full":
            let rootCertificate = try query["sslrootcert"].map { path throws(ConfigurationError) in
                try paths.existingFile(path, key: "store (sslrootcert)")
            }
            security = .verifyFull(caFile: rootCertificate ?? caFile)
        case let mode:
            throw ConfigurationError(
                key: "store",
                problem: "sslmode=\(mode) is not supported: the gateway always verifies the database's "
                    + "certificate (sslmode=verify-full), or uses none on loopback (sslmode=disable)")
        }
        username = user
        self.password = password
        self.database = database
    }

    /// The URL without secrets, for messages.
    package var description: String {
        switch endpoint {
        case .tcp(let host, let port): "postgresql://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .unixSocket(let path): "postgresql://\(username)@/\(database) (socket \(path))"
        }
    }
}
