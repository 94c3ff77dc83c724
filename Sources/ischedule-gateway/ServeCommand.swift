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

    @Flag(help: "Check the configuration and keys, print a summary and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration = try ConfigFile.load(config)
        var logger = Logger(label: "ischedule-gateway")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        if checkConfig {
            do { try await GatewayServer.preflight(configuration, logger: logger) { printError($0) } } catch { throw CLIError("\(error)") }
            print("configuration \(configuration.source) is valid: \(configuration.summary)")
            return
        }
        do {
            try await GatewayServer.run(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            throw CLIError("\(error)")
        }
    }
}

/// Finds and loads the configuration the way every command that needs it does.
enum ConfigFile {
    static func load(_ path: String?) throws -> GatewayConfiguration {
        do {
            let file = try path ?? ConfigurationLoader.findDefault()
            return try ConfigurationLoader.load(file: file)
        } catch {
            throw CLIError("configuration: \(error)")
        }
    }
}
