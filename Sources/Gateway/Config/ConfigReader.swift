internal import Foundation
internal import Yams

/// A configuration problem, named by its key path (`domains.example.com.upstream: not a URL`).
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    let key: String
    let problem: String
    /// The other problems the same check found (a file is checked whole).
    var more: [ConfigurationError] = []

    init(key: String, problem: String, more: [ConfigurationError] = []) {
        self.key = key
        self.problem = problem
        self.more = more
    }

    /// One line per problem, key path first.
    package var lines: [String] { ([self] + more).map { $0.key.isEmpty ? $0.problem : "\($0.key): \($0.problem)" } }

    package var description: String { lines.joined(separator: "\n") }

    /// `problems` as one error (nil when there are none).
    static func combining(_ problems: [ConfigurationError]) -> ConfigurationError? {
        let all = problems.flatMap { [ConfigurationError(key: $0.key, problem: $0.problem)] + $0.more }
        guard let first = all.first else { return nil }
        return ConfigurationError(key: first.key, problem: first.problem, more: Array(all.dropFirst()))
    }
}

/// A duration as configuration and the CLI write it: a number of seconds (`30`, `0.5`) or with a
/// unit (`500ms`, `30s`, `5m`, `1h`, `2d`).
package enum DurationText {
    package static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var number: Double? = Double(text)
        for (suffix, factor) in units where number == nil && text.hasSuffix(suffix) {
            number = Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return number.flatMap { $0.isFinite ? $0 : nil }
    }

    /// A span for people: "45 s", "12 min", "5 h", "3 d" (whole units; `roundingUp` for time left).
    package static func describe(seconds: Int64, roundingUp: Bool = false) -> String {
        let value = max(0, seconds)
        func whole(_ unit: Int64) -> Int64 { roundingUp ? (value + unit - 1) / unit : value / unit }
        return value < 120 ? "\(value) s" : value < 7200 ? "\(whole(60)) min" : value < 172_800 ? "\(whole(3600)) h" : "\(whole(86_400)) d"
    }
}

/// Problems found while reading a file, so that one check reports them all: a bad value is
/// recorded and its default used, and reading goes on.
final class ProblemLog {
    private(set) var problems: [ConfigurationError] = []

    func record(_ problem: ConfigurationError) { problems.append(problem) }

    /// `body`'s value, or `fallback` with its problem recorded.
    func collect<Value>(_ fallback: Value, _ body: () throws(ConfigurationError) -> Value) -> Value {
        do { return try body() } catch {
            record(error)
            return fallback
        }
    }
}

/// Reads one YAML mapping with its key path, so that every error names the key it is about and
/// keys nobody asked for (typos) are refused instead of silently ignored.
struct ConfigReader {
    let path: String
    private let entries: [(key: String, value: Node)]
    /// Shared by every reader of one file.
    let log: ProblemLog

    init(yaml text: String, log: ProblemLog = ProblemLog()) throws(ConfigurationError) {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError(key: "", problem: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigurationError(key: "", problem: "the file is empty") }
        try self.init(node: root, path: "", log: log)
    }

    init(node: Node, path: String, log: ProblemLog) throws(ConfigurationError) {
        self.log = log
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
    func allowOnly(_ allowed: [String]) {
        for entry in entries where !allowed.contains(entry.key) {
            log.record(ConfigurationError(key: key(entry.key), problem: "unknown key (expected one of: \(allowed.joined(separator: ", ")))"))
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
        log.collect(value) { () throws(ConfigurationError) in try checkedInt(name, default: value, in: range) }
    }

    private func checkedInt(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
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
        log.collect(value) { () throws(ConfigurationError) in try checkedSeconds(name, default: value, in: range) }
    }

    private func checkedSeconds(_ name: String, default value: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = try string(name) else { return value }
        guard let seconds = DurationText.seconds(text) else {
            throw ConfigurationError(key: key(name), problem: "'\(text)' is not a duration (e.g. 30s, 500ms, 5m)")
        }
        guard range.contains(seconds) else {
            throw ConfigurationError(key: key(name), problem: "\(text) is outside \(range.lowerBound)…\(range.upperBound) seconds")
        }
        return seconds
    }

    func bool(_ name: String, default value: Bool) throws(ConfigurationError) -> Bool {
        log.collect(value) { () throws(ConfigurationError) in
            guard let text = try string(name) else { return value }
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw ConfigurationError(key: key(name), problem: "'\(text)' is not true or false")
            }
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
        return try ConfigReader(node: node, path: key(name), log: log)
    }

    /// The section `name`; an empty one when the key has no value (`example.com:` alone).
    func sectionOrEmpty(_ name: String) throws(ConfigurationError) -> ConfigReader {
        guard let node = node(name) else { return try ConfigReader(node: .mapping(Node.Mapping([])), path: key(name), log: log) }
        return try ConfigReader(node: node, path: key(name), log: log)
    }

    func sections(_ name: String) throws(ConfigurationError) -> [ConfigReader] {
        guard let node = node(name) else { return [] }
        guard case .sequence(let sequence) = node else { throw ConfigurationError(key: key(name), problem: "expected a list") }
        var readers: [ConfigReader] = []
        for (index, item) in sequence.enumerated() { readers.append(try ConfigReader(node: item, path: "\(key(name))[\(index)]", log: log)) }
        return readers
    }

    /// A secret given inline (`name: value`) or by environment variable (`name-env: VARIABLE`).
    /// With `required: false` an unset variable reads as a placeholder instead of a problem.
    func secret(_ name: String, environment: [String: String], required: Bool = true) throws(ConfigurationError) -> String? {
        let inline = try string(name)
        let variable = try string("\(name)-env")
        switch (inline, variable) {
        case (.some, .some): throw ConfigurationError(key: key(name), problem: "give either \(name) or \(name)-env, not both")
        case (let value?, nil): return value
        case (nil, let variable?):
            guard let value = environment[variable], !value.isEmpty else {
                if !required { return "(\(variable) not set)" }
                throw ConfigurationError(key: key("\(name)-env"), problem: "environment variable \(variable) is not set")
            }
            return value
        case (nil, nil): return nil
        }
    }
}
