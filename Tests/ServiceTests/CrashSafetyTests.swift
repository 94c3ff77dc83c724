import Foundation
import TestSupport
import Testing

/// Tests/Helpers/crash_safety.py: 1,000 messages, the gateway SIGKILLed at least 10 times, a
/// receiver that is slow and sometimes down; every recipient answered 1.0/1.1/1.2 must arrive.
@Suite("Crash safety")
struct CrashSafetyTests {
    @Test("1,000 messages through at least 10 SIGKILLs: nothing answered 1.0/1.1/1.2 is lost")
    func killAndRestart() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers/crash_safety.py").path
        let work = GatewayProcess.temporaryDirectory("crash")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let log = work.appendingPathComponent("driver.log").path
        let driver = try ChildProcess("/usr/bin/env", ["python3", script, GatewayBinary.url.path, work.path], logPath: log)
        let status = driver.waitForExit(timeout: 900)
        if status == nil { driver.stop(grace: 5) }
        let output = driver.log
        let figures = output.split(separator: "\n").filter {
            ["messages submitted", "gateway killed", "answered 1.0", "queue after", "lost:"].contains(where: $0.hasPrefix)
        }
        print("crash safety:\n" + figures.joined(separator: "\n"))
        #expect(status == 0, "\(output.suffix(3000))")
        #expect(figures.contains("lost: 0"))
    }
}
