/// One HTTP header line: the name as received and the raw value text after the colon.
///
/// Values parsed from a raw request keep their exact whitespace (the signature may cover it);
/// values set by code carry no leading blank and are written as `Name: value`.
package struct HeaderField: Sendable, Equatable, Hashable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Case-insensitive name comparison (HTTP field names are case-insensitive).
    @inlinable
    package func hasName(_ other: String) -> Bool {
        ASCII.equalsIgnoringCase(name, other)
    }
}

extension Collection where Element == HeaderField {
    /// Values of every field called `name`, in arrival order.
    package func values(named name: String) -> [String] {
        compactMap { $0.hasName(name) ? $0.value : nil }
    }

    /// How many fields are called `name`.
    package func count(named name: String) -> Int {
        reduce(0) { $0 + ($1.hasName(name) ? 1 : 0) }
    }

    /// Whether any field is called `name`.
    package func contains(named name: String) -> Bool {
        contains { $0.hasName(name) }
    }

}

extension Array where Element == HeaderField {
    /// Removes every field called `name`.
    package mutating func removeAll(named name: String) {
        removeAll { $0.hasName(name) }
    }
}
