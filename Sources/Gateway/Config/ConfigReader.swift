internal import Foundation
internal import Yams

/// A configuration problem, named by its key path (`domains.example.com.upstream: not a URL`).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    let key: String
    let problem: String

    init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { key.isEmpty ? problem : "\(key): \(problem)" }
}

/// Reads one YAML mapping with its key path, so that every error names the key it is about and
/// keys nobody asked for (typos) are refused instead of silently ignored.
struct ConfigReader {
    let path: String
    private let entries: [(key: String, value: Node)]

    init(yaml text: String) throws(ConfigurationError) {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError(key: "", problem: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigurationError(key: "", problem: "the file is empty") }
        try self.init(node: root, path: "")
    }

    init(node: Node, path: String) throws(ConfigurationError) {
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError(key: path, problem: "expected a mapping of keys to values")
        }
        var entries: [(key: String, value: Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw ConfigurationError(key: path, problem: "a key is not a string") }
            if entries.contains(where: { $0.key == name }) {
                throw ConfigurationError(key: Self.join(path, name), problem: "appears twice")
            }
            entries.append((name, value))
        }
        self.path = path
        self.entries = entries
    }

    var keys: [String] { entries.map(\.key) }

    func key(_ name: String) -> String { Self.join(path, name) }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// Refuses keys outside `allowed` (a misspelt key must not fall back to a default unnoticed).
    func allowOnly(_ allowed: [String]) throws(ConfigurationError) {
        for entry in entries where !allowed.contains(entry.key) {
            throw ConfigurationError(key: key(entry.key), problem: "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    func node(_ name: String) -> Node? {
        guard let node = entries.first(where: { $0.key == name })?.value else { return nil }
        if case .scalar(let scalar) = node, scalar.tag == Tag(.null) || (scalar.string.isEmpty && scalar.style == .plain) {
            return nil
        }
        return node
    }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let node = node(name) else { return nil }
        guard case .scalar(let scalar) = node else { throw ConfigurationError(key: key(name), problem: "expected a single value") }
        return scalar.string
    }

    func string(_ name: String, default value: String) throws(ConfigurationError) -> String {
        try string(name) ?? value
    }

    func requiredString(_ name: String) throws(ConfigurationError) -> String {
        guard let value = try string(name), !value.isEmpty else { throw ConfigurationError(key: key(name), problem: "missing") }
        return value
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = try string(name) else { return value }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw ConfigurationError(key: key(name), problem: "'\(text)' is not a whole number")
        }
        guard range.contains(number) else {
            throw ConfigurationError(key: key(name), problem: "\(number) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    /// Seconds, as a number (`30`, `0.5`) or with a unit (`500ms`, `30s`, `5m`, `1h`, `2d`).
    func seconds(_ name: String, default value: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = try string(name) else { return value }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var number: Double? = Double(text)
        for (suffix, factor) in units where number == nil && text.hasSuffix(suffix) {
            number = Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        guard let seconds = number, seconds.isFinite else {
            throw ConfigurationError(key: key(name), problem: "'\(text)' is not a duration (e.g. 30s, 500ms, 5m)")
        }
        guard range.contains(seconds) else {
            throw ConfigurationError(key: key(name), problem: "\(text) is outside \(range.lowerBound)…\(range.upperBound) seconds")
        }
        return seconds
    }

    func bool(_ name: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let text = try string(name) else { return value }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigurationError(key: key(name), problem: "'\(text)' is not true or false")
        }
    }

    func strings(_ name: String) throws(ConfigurationError) -> [String] {
        guard let node = node(name) else { return [] }
        switch node {
        case .scalar(let scalar): return [scalar.string]
        case .sequence(let sequence):
            var values: [String] = []
            for (index, item) in sequence.enumerated() {
                guard case .scalar(let scalar) = item else {
                    throw ConfigurationError(key: "\(key(name))[\(index)]", problem: "expected a single value")
                }
                values.append(scalar.string)
            }
            return values
        default: throw ConfigurationError(key: key(name), problem: "expected a list of values")
        }
    }

    func section(_ name: String) throws(ConfigurationError) -> ConfigReader? {
        guard let node = node(name) else { return nil }
        return try ConfigReader(node: node, path: key(name))
    }

    /// The section `name`; an empty one when the key has no value (`example.com:` alone).
    func sectionOrEmpty(_ name: String) throws(ConfigurationError) -> ConfigReader {
        guard let node = node(name) else { return try ConfigReader(node: .mapping(Node.Mapping([])), path: key(name)) }
        return try ConfigReader(node: node, path: key(name))
    }

    func sections(_ name: String) throws(ConfigurationError) -> [ConfigReader] {
        guard let node = node(name) else { return [] }
        guard case .sequence(let sequence) = node else { throw ConfigurationError(key: key(name), problem: "expected a list") }
        var readers: [ConfigReader] = []
        for (index, item) in sequence.enumerated() { readers.append(try ConfigReader(node: item, path: "\(key(name))[\(index)]")) }
        return readers
    }

    /// A secret given inline (`name: value`) or by environment variable (`name-env: VARIABLE`).
    func secret(_ name: String, environment: [String: String]) throws(ConfigurationError) -> String? {
        let inline = try string(name)
        let variable = try string("\(name)-env")
        switch (inline, variable) {
        case (.some, .some): throw ConfigurationError(key: key(name), problem: "give either \(name) or \(name)-env, not both")
        case (let value?, nil): return value
        case (nil, let variable?):
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigurationError(key: key("\(name)-env"), problem: "environment variable \(variable) is not set")
            }
            return value
        case (nil, nil): return nil
        }
    }
}
