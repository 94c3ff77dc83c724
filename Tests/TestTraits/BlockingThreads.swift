import Foundation
public import Testing

/// Runs every test of a suite on `BlockingThreadPool` instead of Swift's cooperative pool.
///
/// The cooperative pool has about one thread per core: two here. A test that waits on child
/// processes in blocking calls (a gateway's start, a server's exit, `usleep` between polls)
/// holds one of them while it waits; a few such tests at once starved every other test of the
/// run for minutes (trivial tests "passed after 148 s"), and an in-process server's client gave
/// up before the server got a thread. Suites that start processes take this trait; suites whose
/// in-process servers must answer promptly (GatewayRouterTests) stay on the cooperative pool.
public struct BlockingThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    /// Each test case gets the scope (a suite or a parameterized test as a whole does not).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

    public func provideScope(
        for test: Test, testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(BlockingThreadPool.shared) { try await function() }
    }
}

extension Trait where Self == BlockingThreadsTrait {
    /// The suite's tests wait on child processes in blocking calls: see `BlockingThreadsTrait`.
    public static var waitsOnProcesses: Self { BlockingThreadsTrait() }
}

/// Threads of its own that run the jobs of tasks preferring it, in arrival order: a new thread
/// whenever every thread is busy (blocked, mostly), up to `maximum`; idle threads stay.
public final class BlockingThreadPool: TaskExecutor, @unchecked Sendable {
    public static let shared = BlockingThreadPool(maximum: 8)

    private let maximum: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var threads = 0
    private var idle = 0

    init(maximum: Int) { self.maximum = maximum }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        let grow = jobs.count > idle && threads < maximum
        if grow { threads += 1 }
        let index = threads
        condition.signal()
        condition.unlock()
        // Named in the thread itself: on Linux a new thread otherwise keeps its creator's name.
        if grow {
            Thread { [self] in
                Thread.current.name = "test-blocking-\(index)"
                work()
            }.start()
        }
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
            condition.lock()
        }
    }
}
