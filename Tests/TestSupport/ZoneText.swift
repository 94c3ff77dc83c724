import Foundation

/// A TXT record's value as zone-file character-strings of at most `chunk` octets each.
public func zoneTXT(_ value: String, chunk: Int = 250) -> String {
    var strings: [String] = []
    var rest = Substring(value)
    while !rest.isEmpty {
        strings.append("\"\(rest.prefix(chunk))\"")
        rest = rest.dropFirst(chunk)
    }
    return strings.joined(separator: " ")
}

/// The start of a test zone for `name`: SOA, NS and the name server on loopback; records follow.
public func zoneHead(_ name: String) -> String {
    "@ IN SOA ns.\(name). h.\(name). 1 3600 600 86400 60\n@ IN NS ns.\(name).\nns IN A 127.0.0.1\n"
}

/// Waits (bounded, polling every 50 ms) until `condition` holds; whether it did.
@discardableResult
public func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
