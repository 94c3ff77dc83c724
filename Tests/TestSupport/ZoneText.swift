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
