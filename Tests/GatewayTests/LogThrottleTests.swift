import Logging
import Synchronization
import Testing

@testable import Gateway

/// Where `RecordingLogHandler` keeps the messages.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
}

/// A log handler that keeps the messages (the real swift-log API, an in-memory sink).
struct RecordingLogHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { sink.lines.withLock { $0.append(event.message.description) } }
}

@Suite struct LogThrottleTests {
    @Test func aRecurringErrorIsLoggedOnceAMinuteWithItsCount() {
        let sink = LogLines()
        let handler = RecordingLogHandler(sink: sink)
        let logger = Logger(label: "test") { _ in handler }
        let now = Atomic<Int64>(0)
        let throttle = LogThrottle(intervalSeconds: 60, clock: GatewayClock { now.load(ordering: .relaxed) })
        for second in 0..<150 {
            now.store(Int64(second) * 1000, ordering: .relaxed)
            throttle.error("claim", "queue claim failed: disk I/O error", logger: logger)
        }
        #expect(
            sink.lines.withLock { $0 } == [
                "queue claim failed: disk I/O error",
                "queue claim failed: disk I/O error (59 more times since the last report)",
                "queue claim failed: disk I/O error (59 more times since the last report)"
            ])
    }
}
