import DKIM
import Dispatch
import Foundation
import Synchronization

// Writes COUNT DKIM-signed iSchedule invitations (2 KB iTIP body, RSA-2048, distinct
// iSchedule-Message-IDs and UIDs) as raw HTTP/1.1 requests for a load generator: each request is
// a line with its length in bytes, then the bytes. Signed on every core.
//   signed-requests COUNT KEY_PEM DOMAIN SELECTOR RECIPIENT HOST PATH OUT
// Benchmarks/suite/run.py uses it; it prints the time it took.

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 8, let count = Int(arguments[0]), count > 0 else {
    FileHandle.standardError.write(Data("usage: signed-requests COUNT KEY_PEM DOMAIN SELECTOR RECIPIENT HOST PATH OUT\n".utf8))
    exit(64)
}
let (keyFile, domain, selector, recipient, host, path, out) = (arguments[1], arguments[2], arguments[3], arguments[4], arguments[5],
                                                                 arguments[6], arguments[7])
/// Signs invitations from organizer@DOMAIN to RECIPIENT.
struct Generator: Sendable {
    let signer: DKIMSigner
    let domain: String
    let recipient: String
    let host: String
    let path: String
    var originator: String { "mailto:organizer@\(domain)" }

    /// One invitation of about 2 KB, unique by `index`.
    func body(_ index: Int) -> [UInt8] {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ischedule-gateway//benchmark//EN", "METHOD:REQUEST",
                     "BEGIN:VEVENT", "UID:bench-\(index)-\(UUID().uuidString)", "DTSTAMP:20261126T120000Z",
                     "DTSTART:20261201T150000Z", "DTEND:20261201T160000Z", "SEQUENCE:0", "SUMMARY:Quarterly planning",
                     "LOCATION:Room 4.12", "ORGANIZER;CN=Organizer:\(originator)",
                     "ATTENDEE;CN=Recipient;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:\(recipient)"]
        var filler = 0
        while lines.joined(separator: "\r\n").utf8.count < 1_900 {
            filler += 1
            lines.append("ATTENDEE;CN=Guest \(filler);PARTSTAT=NEEDS-ACTION:mailto:guest\(filler)@\(domain)")
        }
        lines += ["END:VEVENT", "END:VCALENDAR", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// The raw request, signed now.
    func request(_ index: Int) throws -> [UInt8] {
        let payload = body(index)
        var message = HTTPRequestMessage(headers: [
            HeaderField(name: "Host", value: host),
            HeaderField(name: "Originator", value: originator),
            HeaderField(name: "Recipient", value: recipient),
            HeaderField(name: "Content-Type", value: "text/calendar; charset=utf-8; component=VEVENT; method=REQUEST"),
        ], body: payload)
        try signer.sign(&message, now: Int64(Date().timeIntervalSince1970), messageID: "bench-\(index)-\(UUID().uuidString)")
        var head = "POST \(path) HTTP/1.1\r\n"
        for header in message.headers { head += "\(header.name): \(header.value)\r\n" }
        head += "Content-Length: \(payload.count)\r\n\r\n"
        return Array(head.utf8) + payload
    }
}

let generator = Generator(
    signer: try DKIMSigner(privateKey: RSAPrivateKey(pem: String(contentsOfFile: keyFile, encoding: .utf8)), domain: domain,
                           selector: selector, queryMethods: [.privateExchange], lifetime: 3600),
    domain: domain, recipient: recipient, host: host, path: path)

let started = Date()
let chunks = ProcessInfo.processInfo.activeProcessorCount * 4
let results = Mutex([[UInt8]](repeating: [], count: count))
DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
    var signed: [(Int, [UInt8])] = []
    for index in stride(from: chunk, to: count, by: chunks) { signed.append((index, (try? generator.request(index)) ?? [])) }
    results.withLock { all in for (index, raw) in signed { all[index] = raw } }
}
var file = Data()
for raw in results.withLock({ $0 }) {
    guard !raw.isEmpty else { fatalError("signing failed") }
    file.append(Data("\(raw.count)\n".utf8))
    file.append(contentsOf: raw)
}
try file.write(to: URL(fileURLWithPath: out))
print(String(format: "signed %d requests in %.1f s", count, Date().timeIntervalSince(started)))
