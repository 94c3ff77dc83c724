import ArgumentParser
import Gateway

/// `ischedule-gateway`: the iSchedule gateway and its administration tools.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ischedule-gateway",
        abstract: "iSchedule gateway: real-time iTIP scheduling between calendar domains over DKIM-signed HTTPS.",
        version: GatewayIdentity.version,
        subcommands: [
            ServeCommand.self, InitCommand.self, QueueCommand.self, StoreCommand.self, DKIMCommand.self, ProbeCommand.self, StatusCommand.self,
            IMIPIntakeCommand.self
        ],
        defaultSubcommand: ServeCommand.self
    )
}
