import DKIM
import ISchedule
import Foundation

// DKIM sign and full-verify throughput beside `openssl speed rsa2048`, measured in one run.
// Build and run in release mode: `swift run -c release dkim-benchmark [seconds-per-round] [rounds]`.
// Rounds alternate between our code and openssl; each side reports its best round, so a noisy
// neighbour on a shared machine penalizes neither side more than the other.

let seconds = Double(CommandLine.arguments.dropFirst().first ?? "") ?? 1
let rounds = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 5

func makeRequest() -> HTTPRequestMessage {
    var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ischedule-gateway//benchmark//EN", "METHOD:REQUEST",
                 "BEGIN:VEVENT", "UID:0b7e6d0a-6f3c-4a59-9d3e-5b2f9c1e7a40@example.com", "DTSTAMP:20241124T120000Z",
                 "DTSTART:20241201T150000Z", "DTEND:20241201T160000Z", "SEQUENCE:0", "SUMMARY:Quarterly planning",
                 "LOCATION:Room 4.12", "ORGANIZER;CN=Alice Example:mailto:alice@example.com"]
    var attendee = 0
    while lines.joined(separator: "\r\n").utf8.count < 1_900 {
        attendee += 1
        lines.append("ATTENDEE;CN=Attendee \(attendee);PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:user\(attendee)@example.org")
    }
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    let body = Array(lines.joined(separator: "\r\n").utf8)
    return HTTPRequestMessage(headers: [
        HeaderField(name: "Host", value: "isched.example.org:8443"),
        HeaderField(name: "Originator", value: "mailto:alice@example.com"),
        HeaderField(name: "Recipient", value: "mailto:user1@example.org,mailto:user2@example.org"),
        HeaderField(name: "Content-Type", value: "text/calendar; charset=utf-8; component=VEVENT; method=REQUEST"),
        HeaderField(name: "User-Agent", value: "ischedule-gateway/0.1"),
    ], body: body)
}

/// Runs `body` repeatedly for about `seconds`, returning operations per second.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    for _ in 0..<20 { try body() }
    var operations = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .seconds(seconds) {
        for _ in 0..<16 { try body() }
        operations += 16
        elapsed = clock.now - start
    }
    let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(operations) / total
}

func measureAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    for _ in 0..<20 { try await body() }
    var operations = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .seconds(seconds) {
        for _ in 0..<64 { try await body() }
        operations += 64
        elapsed = clock.now - start
    }
    let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(operations) / total
}

/// The verify loop, declared outside the main actor: the gateway verifies on the cooperative pool,
/// and a closure written in top-level code would hop to the main thread on every call.
nonisolated func measureVerify(_ verifier: DKIMVerifier, _ request: HTTPRequestMessage) async throws -> Double {
    try await measureAsync { _ = try await verifier.verify(request) }
}

/// `openssl speed -seconds N rsa2048`: the (sign/s, verify/s) row.
func opensslSpeed() -> (sign: Double, verify: Double)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-seconds", String(max(1, Int(seconds.rounded(.up)))), "rsa2048"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    // The async main thread runs with every signal blocked and the child inherits that mask;
    // `openssl speed` stops each test with SIGALRM, so let it through while spawning.
    var alarm = sigset_t(), previous = sigset_t()
    sigemptyset(&alarm)
    sigaddset(&alarm, SIGALRM)
    pthread_sigmask(SIG_UNBLOCK, &alarm, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    do { try process.run() } catch { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    for line in output.split(separator: "\n") where line.hasPrefix("rsa 2048 bits") {
        let fields = line.split(separator: " ").compactMap { Double($0) }
        if fields.count >= 3 { return (fields[fields.count - 2], fields[fields.count - 1]) }
    }
    return nil
}

let key = try RSAPrivateKey.generate(bits: 2048)
let signer = try DKIMSigner(privateKey: key, domain: "example.com", selector: "bench", queryMethods: [.dnsTXT])
let template = makeRequest()
var signed = template
try signer.sign(&signed, now: 1_700_000_000)
let verifier = DKIMVerifier(keys: KeyLocator(sources: [.dnsTXT: FixedKeyRecords(records: [KeyRecord.text(for: key.publicKey)])]),
                            clock: FixedUnixClock(1_700_000_100))
_ = try await verifier.verify(signed)

print("DKIM benchmark: 2048-bit RSA, \(template.body.count)-byte body, best of \(rounds) alternating rounds of \(seconds) s, one thread")
var signRate = 0.0, verifyRate = 0.0, openssl = (sign: 0.0, verify: 0.0)
for _ in 0..<rounds {
    signRate = max(signRate, try measure {
        var request = template
        try signer.sign(&request, now: 1_700_000_000, messageID: "bench")
    })
    verifyRate = max(verifyRate, try await measureVerify(verifier, signed))
    guard let round = opensslSpeed() else {
        print("openssl speed could not be run; install the openssl package")
        exit(1)
    }
    openssl = (max(openssl.sign, round.sign), max(openssl.verify, round.verify))
}

func row(_ name: String, _ ours: Double, _ reference: Double, _ target: Double) -> String {
    let ratio = ours / reference * 100
    return "| \(name.padding(toLength: 48, withPad: " ", startingAt: 0)) | \(String(format: "%8.0f", ours)) | "
        + "\(String(format: "%9.0f", reference)) | \(String(format: "%5.1f%%", ratio)) | \(String(format: "≥ %3.0f%%", target)) "
        + "| \(ratio >= target ? "met   " : "MISSED") |"
}
print("| measurement                                      |   ours/s | openssl/s | ratio  | target | result |")
print("|--------------------------------------------------|----------|-----------|--------|--------|--------|")
print(row("sign (canonicalize + hash + RSA sign)", signRate, openssl.sign, 90))
print(row("full verify (parse + canonicalize + hash + RSA)", verifyRate, openssl.verify, 60))

// The worst body an unauthenticated sender can make the receiver parse once its signature checks
// out: 40,000 distinct ATTENDEEs in about 1.35 MB (the inbound path parses the calendar only after
// the signature, and refuses more than limits.max-attendees).
let crowd = (0..<40_000).map { "ATTENDEE:mailto:a\($0)@x.example" }
let worst = Array((["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "METHOD:REQUEST", "BEGIN:VEVENT", "UID:worst",
                    "DTSTAMP:20261124T100000Z", "DTSTART:20261201T100000Z", "ORGANIZER:mailto:eve@x.example"] + crowd
                   + ["END:VEVENT", "END:VCALENDAR", ""]).joined(separator: "\r\n").utf8)
func parseMilliseconds(_ maximum: Int) -> Double {
    let start = ContinuousClock.now
    _ = try? ITIPMessage(parsing: worst, maximumAttendees: maximum)
    let elapsed = start.duration(to: .now)
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000
}
let uncapped = (0..<3).map { _ in parseMilliseconds(100_000) }.min() ?? 0
let capped = (0..<3).map { _ in parseMilliseconds(5_000) }.min() ?? 0
print(String(format: "worst-case iTIP body (%.2f MB, 40,000 ATTENDEEs): parse %.0f ms without a cap, %.0f ms refused at max-attendees 5,000",
             Double(worst.count) / 1e6, uncapped, capped))
