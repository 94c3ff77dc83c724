extension Result {
    /// `Result(catching:)` for an async body. The one place that builds a result from a
    /// typed-throws call without returning from inside `do throws(E) {…} catch`: Swift 6.3.1 at
    /// -O miscompiles a task-group child that does (docs/install.md, "Release builds"). Synchronous calls
    /// use the standard library's `Result(catching:)`.
    package init(awaiting body: () async throws(Failure) -> Success) async {
        let result: Result
        do throws(Failure) { result = .success(try await body()) } catch { result = .failure(error) }
        self = result
    }
}
