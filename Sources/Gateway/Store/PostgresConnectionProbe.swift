internal import Logging
internal import NIOCore
internal import NIOSSL
internal import PostgresNIO

extension PostgresDatabase {
    /// Why a connection cannot be made, from one direct attempt with the pool's settings (the pool
    /// itself only retries, and an operation waiting for it learns nothing but the deadline); nil
    /// when the attempt succeeds.
    func connectionProblem() async -> String? {
        let attempt: Result<Void, any Error>
        do {
            var configuration: PostgresConnection.Configuration
            switch settings.endpoint {
            case .tcp(let host, let port):
                let tls: PostgresConnection.Configuration.TLS =
                    try Self.tls(settings).map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
                configuration = .init(
                    host: host, port: port, username: settings.username, password: settings.password,
                    database: settings.database, tls: tls)
            case .unixSocket(let path):
                configuration = .init(
                    unixSocketPath: path, username: settings.username, password: settings.password,
                    database: settings.database)
            }
            configuration.options.connectTimeout = .seconds(5)
            let connection = try await PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.next(),
                configuration: configuration, id: 0, logger: logger)
            try await connection.close()
            attempt = .success(())
        } catch {
            attempt = .failure(error)
        }
        guard case .failure(let error) = attempt else { return nil }
        return Self.describe(error)
    }
}
