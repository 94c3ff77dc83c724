internal import Yams

/// Edits one domain's `dkim-keys` list in the configuration file's text, the way `postconf -e`
/// edits main.cf: only the lines of that list change; comments, order and layout elsewhere stay.
/// The first entry signs; the others are published (key rotation).
package struct KeyListEditor {
    package private(set) var text: String
    private let domain: String

    package struct EditError: Error, CustomStringConvertible {
        package let description: String
    }

    /// One entry's lines, from its dash to the line before the next entry (or the list's end).
    private struct Entry {
        let selector: String
        let lines: Range<Int>
    }

    package init(text: String, domain: String) {
        self.text = text
        self.domain = domain.lowercased()
    }

    /// The selectors in file order (the first signs).
    package func selectors() throws(EditError) -> [String] { try entries().entries.map(\.selector) }

    /// Adds an entry at the end of the list (published, not signing).
    package mutating func append(selector: String, privateKey: String) throws(EditError) {
        let (entries, lines, dash) = try entries()
        guard let last = entries.last else { throw EditError(description: "domains.\(domain).dkim-keys is empty") }
        let pad = String(repeating: " ", count: dash)
        var updated = lines
        updated.insert(
            contentsOf: ["\(pad)- selector: \(selector)", "\(pad)  private-key: \(Self.quoted(privateKey))"],
            at: Self.significantEnd(last.lines, in: lines))
        text = updated.joined(separator: "\n")
    }

    /// Moves `selector`'s entry to the front: it signs from the next (re)load.
    package mutating func moveToFront(_ selector: String) throws(EditError) {
        let (entries, lines, _) = try entries()
        guard let entry = entries.first(where: { $0.selector == selector }), let first = entries.first else {
            throw EditError(description: "domains.\(domain).dkim-keys has no selector \(selector)")
        }
        guard entry.lines != first.lines else { return }
        let end = Self.significantEnd(entry.lines, in: lines)
        var updated = lines
        let block = Array(lines[entry.lines.lowerBound..<end])
        updated.removeSubrange(entry.lines.lowerBound..<end)
        updated.insert(contentsOf: block, at: first.lines.lowerBound)
        text = updated.joined(separator: "\n")
    }

    /// Deletes `selector`'s entry; the list must keep one.
    package mutating func remove(_ selector: String) throws(EditError) {
        let (entries, lines, _) = try entries()
        guard let entry = entries.first(where: { $0.selector == selector }) else {
            throw EditError(description: "domains.\(domain).dkim-keys has no selector \(selector)")
        }
        guard entries.count > 1 else { throw EditError(description: "domains.\(domain).dkim-keys would be empty") }
        var updated = lines
        updated.removeSubrange(entry.lines.lowerBound..<Self.significantEnd(entry.lines, in: lines))
        text = updated.joined(separator: "\n")
    }

    /// The entries, the file's lines and the column of the list's dashes.
    private func entries() throws(EditError) -> (entries: [Entry], lines: [String], dash: Int) {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw EditError(description: "not valid YAML: \(error)") }
        guard let domains = root?["domains"]?.mapping,
            let domainNode = domains.first(where: { $0.key.string?.lowercased() == domain })?.value,
            let list = domainNode["dkim-keys"]
        else {
            throw EditError(description: "no domains.\(domain).dkim-keys in the file")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let sequence = list.sequence, let mark = list.mark, mark.line <= lines.count,
            lines[mark.line - 1].dropFirst(mark.column - 1).first == "-"
        else {
            throw EditError(description: "domains.\(domain).dkim-keys must be a block list (one '- selector:' entry per key)")
        }
        let selectors = sequence.map { $0["selector"]?.string ?? "" }
        let dash = mark.column - 1
        var starts: [Int] = []
        var end = lines.count
        for index in (mark.line - 1)..<lines.count {
            let line = lines[index]
            let content = line.drop { $0 == " " }
            if content.isEmpty || content.hasPrefix("#") { continue }
            let indent = line.count - content.count
            if indent == dash && (content == "-" || content.hasPrefix("- ")) {
                starts.append(index)
            } else if indent <= dash {
                end = index
                break
            }
        }
        guard starts.count == selectors.count else {
            throw EditError(description: "domains.\(domain).dkim-keys: cannot tell its \(selectors.count) entries apart in the text")
        }
        let entries = starts.enumerated().map { number, start in
            Entry(selector: selectors[number], lines: start..<(number + 1 < starts.count ? starts[number + 1] : end))
        }
        return (entries, lines, dash)
    }

    /// The end of an entry without the blank and comment lines that trail it (they belong to what follows).
    private static func significantEnd(_ range: Range<Int>, in lines: [String]) -> Int {
        var end = range.upperBound
        while end > range.lowerBound + 1 {
            let content = lines[end - 1].drop { $0 == " " }
            guard content.isEmpty || content.hasPrefix("#") else { break }
            end -= 1
        }
        return end
    }

    /// A path as a YAML scalar (quoted when plain style would misread it).
    private static func quoted(_ value: String) -> String {
        let plain = value.allSatisfy { $0.isLetter || $0.isNumber || "/._-+@".contains($0) } && !value.hasPrefix("-")
        return plain ? value : "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
