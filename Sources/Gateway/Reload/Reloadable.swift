internal import Synchronization

/// A value replaced as a whole on configuration reload. Readers take the current value once and
/// keep it for the request or attempt they serve, so work in flight finishes with the
/// configuration it started with.
final class Reloadable<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    var current: Value { value.withLock { $0 } }

    func replace(with new: Value) { value.withLock { $0 = new } }
}
