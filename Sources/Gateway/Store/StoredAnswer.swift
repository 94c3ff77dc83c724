internal import DKIM

/// How a ledger stores the header fields of an answer it keeps for retries: one `Name: value` per line.
extension GatewayResponse {
    var storedHeaders: String {
        headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    static func headers(stored text: String) -> [HeaderField] {
        text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return HeaderField(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].dropFirst()))
        }
    }
}
