import ArgumentParser

/// `ischedule-gateway dkim …`: key management and offline signing/verification.
struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "DKIM keys and signatures for iSchedule (the modern calendarserver_dkimtool).",
        subcommands: [
            KeygenCommand.self, TXTCommand.self, SignCommand.self, VerifyCommand.self, CheckCommand.self, RotateCommand.self, KeyStatusCommand.self
        ]
    )
}
