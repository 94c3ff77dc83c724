internal import Foundation
internal import NIOCore
internal import ServiceLifecycle

/// One listener's application in the service group: a failure to bind (address in use, not an
/// address of this host, no permission) stops the start with one line naming the listener's key
/// and URL, instead of NIO's bare `bind(descriptor:ptr:bytes:)` error.
struct ListenerService: Service {
    let application: any Service
    /// `listeners[N].url`.
    let key: String
    let url: String

    func run() async throws {
        let failure: (any Error)?
        do {
            try await application.run()
            failure = nil
        } catch let error as IOError {
            failure = ConfigurationError(
                key: key, problem: "cannot listen on \(url): \(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))")
        } catch {
            failure = error
        }
        if let failure { throw failure }
    }
}
