/// Builds small XML documents with correct escaping; the default namespace is iSchedule's.
struct XMLWriter {
    private(set) var output = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

    mutating func open(_ name: String, attributes: [(String, String)] = [], namespace: String? = nil) {
        output += "<\(name)"
        if let namespace { output += " xmlns=\"\(Self.escape(namespace))\"" }
        for (key, value) in attributes { output += " \(key)=\"\(Self.escape(value))\"" }
        output += ">"
    }

    mutating func close(_ name: String) { output += "</\(name)>" }

    mutating func empty(_ name: String, attributes: [(String, String)] = [], namespace: String? = nil) {
        output += "<\(name)"
        if let namespace { output += " xmlns=\"\(Self.escape(namespace))\"" }
        for (key, value) in attributes { output += " \(key)=\"\(Self.escape(value))\"" }
        output += "/>"
    }

    mutating func element(_ name: String, _ text: String) {
        output += "<\(name)>\(Self.escape(text))</\(name)>"
    }

    mutating func text(_ text: String) { output += Self.escape(text) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\r": out += "&#13;"
            default:
                // Characters XML 1.0 cannot carry at all are dropped.
                if character.value < 0x20 && character != "\n" && character != "\t" { continue }
                out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
