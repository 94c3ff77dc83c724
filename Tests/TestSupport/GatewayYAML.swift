public import Foundation

/// A gateway configuration built in code and written out as YAML, so that a test says only what
/// differs from a working local gateway (`GatewayYAML.local`) instead of repeating its whole text.
///
///     var configuration = GatewayYAML.local()
///     configuration["dns", "servers"] = [dns.server]
///     configuration.merge(["delivery": ["poll-interval": "50ms"], "timeouts": ["connect": "2s"]])
public struct GatewayYAML: Sendable, ExpressibleByDictionaryLiteral {
    /// A YAML value: a scalar (written plain when that reads back as the same text, else
    /// double-quoted), a list, or a map that keeps its keys in the order they were set.
    public indirect enum Value: Sendable, Equatable, ExpressibleByStringInterpolation, ExpressibleByArrayLiteral,
        ExpressibleByDictionaryLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral
    {
        case scalar(String)
        case list([Value])
        case map([Entry])

        public init(stringLiteral value: String) { self = .scalar(value) }
        public init(arrayLiteral elements: Value...) { self = .list(elements) }
        public init(dictionaryLiteral elements: (String, Value)...) { self = .map(elements.map { Entry(key: $0.0, value: $0.1) }) }
        public init(booleanLiteral value: Bool) { self = .scalar(String(value)) }
        public init(integerLiteral value: Int) { self = .scalar(String(value)) }

        /// A map of one key whose name is not a literal.
        public static func map(_ key: String, _ value: Value) -> Value { .map([Entry(key: key, value: value)]) }

        /// `overrides` (a map) set over this map: maps merged key by key, scalars and lists replaced.
        public func merging(_ overrides: Value) -> Value {
            guard case .map = self, case .map(let entries) = overrides else { return overrides }
            var merged = self
            for entry in entries {
                let current = merged.value(at: [entry.key])
                merged.set(current.map { $0.merging(entry.value) } ?? entry.value, at: [entry.key])
            }
            return merged
        }

        /// A list of scalars.
        public static func list(_ scalars: [String]) -> Value { .list(scalars.map(Value.scalar)) }
    }

    /// One key of a map and its value.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
    }

    public var root: Value

    public init(dictionaryLiteral elements: (String, Value)...) { root = .map(elements.map { Entry(key: $0.0, value: $0.1) }) }

    /// The value at `path` (map keys); setting nil removes it, setting creates the maps on the way.
    public subscript(path: String...) -> Value? {
        get { root.value(at: path[...]) }
        set { root.set(newValue, at: path[...]) }
    }

    /// Sets every key of `overrides` (a map) in this configuration, maps merged key by key,
    /// scalars and lists replaced.
    public mutating func merge(_ overrides: Value) { root = root.merging(overrides) }

    /// This configuration with `overrides` merged in.
    public func merged(_ overrides: Value) -> GatewayYAML {
        var configuration = self
        configuration.merge(overrides)
        return configuration
    }

    /// Sets each of `values` (scalars, in key order) in the map at `path`, keeping its other keys.
    public mutating func set(_ values: [String: String], under path: String...) {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) { root.set(.scalar(value), at: path[...] + [key]) }
    }

    /// The configuration file's text.
    public var text: String { root.lines(indent: "").joined(separator: "\n") + "\n" }
}

extension GatewayYAML {
    /// A gateway that works as it is: an http listener on a port the kernel chooses, data in
    /// `data`, signing for `domain` with selector `gw` and `key` (created when missing), taking
    /// outbound requests from loopback and delivering to loopback receivers.
    public static func local(_ domain: String = "alpha.test", key: String = "keys/alpha.pem", upstream: String? = nil) -> GatewayYAML {
        var configuration: GatewayYAML = [
            "listeners": [["url": "http://127.0.0.1:0"]],
            "data-directory": "data",
            "domains": .map(domain, ["dkim-keys": [["selector": "gw", "private-key": .scalar(key), "create-if-missing": true]]]),
            "outbound": ["allow-from": ["127.0.0.1"], "allow-private-addresses": true]
        ]
        if let upstream { configuration["domains", domain, "upstream"] = .scalar(upstream) }
        return configuration
    }
}

extension GatewayYAML {
    /// A gateway that only receives: `domain`'s messages forwarded to `upstream`, no signing key,
    /// state where the gateway puts it by default.
    public static func receiving(_ domain: String = "alpha.test", upstream: String = "http://127.0.0.1:9/") -> GatewayYAML {
        ["listeners": [["url": "http://127.0.0.1:0"]], "domains": .map(domain, ["upstream": .scalar(upstream)])]
    }

    /// Writes the configuration file.
    public func write(to file: URL) throws { try text.write(to: file, atomically: true, encoding: .utf8) }

    /// A gateway that other gateways reach: `local` with an https listener first (`certificate`,
    /// asking for client certificates from `clientCAFile` when given), resolving with `dns`,
    /// trusting `caFile`, and looking DKIM keys up in DNS only.
    public static func facingPeers(
        _ domain: String, key: String, upstream: String, https: String = "https://127.0.0.1:0", certificate: (cert: String, key: String),
        clientCAFile: String? = nil, dns: String, caFile: String
    ) -> GatewayYAML {
        var configuration = local(domain, key: key, upstream: upstream)
        var listener: Value = ["url": .scalar(https), "certificate": .scalar(certificate.cert), "private-key": .scalar(certificate.key)]
        if let clientCAFile { listener = listener.merging(["client-ca-file": .scalar(clientCAFile)]) }
        configuration["listeners"] = [listener, ["url": "http://127.0.0.1:0"]]
        configuration.merge(["dns": ["servers": [.scalar(dns)]], "tls": ["ca-file": .scalar(caFile)], "dkim": ["lookup-methods": ["dns/txt"]]])
        return configuration
    }
}

extension GatewayYAML.Value {
    fileprivate func value(at path: ArraySlice<String>) -> Self? {
        guard let key = path.first else { return self }
        guard case .map(let entries) = self, let entry = entries.first(where: { $0.key == key }) else { return nil }
        return entry.value.value(at: path.dropFirst())
    }

    fileprivate mutating func set(_ newValue: Self?, at path: ArraySlice<String>) {
        guard let key = path.first else { return }
        var entries: [GatewayYAML.Entry] = []
        if case .map(let existing) = self { entries = existing }
        let index = entries.firstIndex { $0.key == key }
        if path.count == 1 {
            switch (index, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append(.init(key: key, value: value))
            case (nil, nil): break
            }
        } else {
            var child = index.map { entries[$0].value } ?? .map([])
            child.set(newValue, at: path.dropFirst())
            if let index { entries[index].value = child } else { entries.append(.init(key: key, value: child)) }
        }
        self = .map(entries)
    }

    /// Block-style lines; lists of scalars in flow style (`[a, b]`).
    fileprivate func lines(indent: String) -> [String] {
        switch self {
        case .scalar(let text): return [indent + Self.quoted(text)]
        case .list(let items):
            return items.flatMap { item -> [String] in
                let nested = item.lines(indent: indent + "  ")
                guard let first = nested.first else { return [] }
                return [indent + "- " + first.dropFirst(indent.count + 2)] + nested.dropFirst()
            }
        case .map(let entries):
            return entries.flatMap { entry -> [String] in
                let head = indent + entry.key + ":"
                switch entry.value {
                case .scalar(let text): return [head + " " + Self.quoted(text)]
                case .list(let items) where items.allSatisfy(\.isScalar):
                    return [head + " [" + items.map { $0.lines(indent: "")[0] }.joined(separator: ", ") + "]"]
                case .map(let nested) where nested.isEmpty: return [head + " {}"]
                case .list, .map: return [head] + entry.value.lines(indent: indent + "  ")
                }
            }
        }
    }

    private var isScalar: Bool { if case .scalar = self { true } else { false } }

    /// `text` plain when YAML reads it back as the same string in block and flow context, else
    /// double-quoted (JSON escapes are valid YAML).
    private static func quoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789._/:@+=~%-".unicodeScalars.contains($0) }
        if plain, let first = text.unicodeScalars.first, first.properties.isAlphabetic || "0123456789/.".unicodeScalars.contains(first),
            text.last != ":"
        {
            return text
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
