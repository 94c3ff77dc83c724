import ArgumentParser
import Foundation
import Gateway
import Logging

/// `serve`: runs the gateway until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (iSchedule receiver, outbound intake, key server).",
        discussion: """
            Without --config the embedded default is used: config/gateway.yaml under the working
            directory, then the installed copy, then /etc/ischedule-gateway/gateway.yaml. Prints one
            'listening on URL' line per listener. SIGTERM or SIGINT stop accepting, let requests in
            flight finish and exit 0.
            """
    )

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Flag(help: "Check the configuration, keys, TLS files and store; print every problem (one line each) and exit. Creates nothing.")
    var checkConfig = false

    @Option(
        name: .customLong("env-file"),
        help: "Read environment variables (KEY=VALUE lines, as systemd's EnvironmentFile; - for standard input) before the configuration.")
    var envFile: String?

    func run() async throws {
        let configuration = try ConfigFile.load(config, envFile: envFile)
        var logger = Logger(label: "ischedule-gateway")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        if checkConfig {
            do { try await GatewayServer.preflight(configuration, logger: logger) { printError($0) } } catch {
                throw ConfigFile.report(error, file: configuration.source)
            }
            print("configuration \(configuration.source) is valid: \(configuration.summary)")
            return
        }
        // SIGHUP reads the same file (and environment file) again; the process environment stays.
        let (file, envFile) = (configuration.source, envFile)
        do {
            try await GatewayServer.run(
                configuration: configuration, reload: { try ConfigFile.loadReporting(file, envFile: envFile) },
                logger: logger)
        } catch let error as ConfigurationError {
            throw CLIError("\(error)")
        }
    }
}

/// Finds and loads the configuration the way every command that needs it does.
enum ConfigFile {
    /// - Parameter requireSecrets: false for commands that use no secret but the store's.
    static func load(_ path: String?, envFile: String? = nil, requireSecrets: Bool = true) throws -> GatewayConfiguration {
        let file: String
        do { file = try path ?? ConfigurationLoader.findDefault() } catch { throw CLIError("configuration: \(error)") }
        do { return try loadReporting(file, envFile: envFile, requireSecrets: requireSecrets) } catch let error as ConfigurationError {
            throw report(error, file: file)
        }
    }

    /// `file` with `envFile`'s variables over the process environment; the file's problems are
    /// thrown as one `ConfigurationError` (every problem), for the caller to report.
    static func loadReporting(_ file: String, envFile: String?, requireSecrets: Bool = true) throws -> GatewayConfiguration {
        var environment = ProcessInfo.processInfo.environment
        if let envFile { environment.merge(try EnvironmentFile.read(envFile)) { _, fromFile in fromFile } }
        return try ConfigurationLoader.load(file: file, environment: environment, requireSecrets: requireSecrets)
    }

    /// One line per problem, key path first, after a line counting them when there are several.
    static func report(_ error: any Error, file: String) -> CLIError {
        guard let problems = (error as? ConfigurationError)?.lines, problems.count > 1 else { return CLIError("configuration: \(error)") }
        return CLIError("configuration \(file): \(problems.count) problems\n" + problems.joined(separator: "\n"))
    }
}

/// `--env-file`: `KEY=VALUE` lines as systemd's `EnvironmentFile=` reads them (blank lines and
/// `#`/`;` comments skipped, one pair of surrounding quotes removed).
enum EnvironmentFile {
    /// `path` `-` reads standard input (for a file only root may read: `cat FILE | runuser … --env-file -`).
    static func read(_ path: String) throws -> [String: String] {
        let text: String
        if path == "-" {
            guard let input = String(validating: Array(FileHandle.standardInput.readDataToEndOfFile()), as: UTF8.self) else {
                throw CLIError("--env-file -: standard input is not UTF-8 text")
            }
            text = input
        } else {
            text = try CLIFiles.text(path, what: "--env-file")
        }
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "="), !line[..<equals].isEmpty,
                line[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else {
                throw CLIError("--env-file \(path) line \(number + 1): expected KEY=VALUE")
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<equals])] = value
        }
        return values
    }
}
