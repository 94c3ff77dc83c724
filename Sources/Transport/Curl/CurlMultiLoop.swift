internal import CCurl
import Foundation
import Synchronization

/// One dedicated thread running `curl_multi`: transfers are handed over through a mutex-guarded
/// queue plus `curl_multi_wakeup`, and end by calling their `onEnd` (the owning client resumes its
/// continuation there). Swift's cooperative pool never blocks on network I/O.
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private struct Inbox {
        var added: [CurlTransfer] = []
        var stopping = false
    }
    private let inbox = Mutex(Inbox())
    private let stopped = DispatchSemaphore(value: 0)
    /// Transfers owned by the loop thread (only it touches this).
    private var running: [ObjectIdentifier: CurlTransfer] = [:]

    private static let globalInit: Void = { _ = ischedule_curl_global_init() }()

    init(maximumConnectionsPerHost: Int) {
        _ = Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        self.multi = multi
        _ = ischedule_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maximumConnectionsPerHost)
        let thread = Thread { [self] in run() }
        thread.name = "ischedule-gateway.curl"
        thread.start()
    }

    /// Queues `transfer`; false when the loop is stopping.
    func submit(_ transfer: CurlTransfer) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.added.append(transfer)
            return true
        }
        if accepted { curl_multi_wakeup(multi) }
        return accepted
    }

    /// Runs `transfer` to its end and maps the ending to the caller's result type; task cancellation
    /// aborts it, a stopped loop ends it as `shutDown`.
    func perform<Outcome: Sendable>(
        _ transfer: CurlTransfer,
        _ outcome: @escaping @Sendable (CurlTransfer.Ending) -> Outcome
    ) async -> Outcome {
        if Task.isCancelled { return outcome(.cancelled) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.onEnd = { ending in continuation.resume(returning: outcome(ending)) }
                if !submit(transfer) {
                    transfer.onEnd = nil
                    continuation.resume(returning: outcome(.shutDown))
                }
            }
        } onCancel: {
            cancel(transfer)
        }
    }

    /// Marks `transfer` cancelled, whether it is queued, running or not yet submitted.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .releasing)
        curl_multi_wakeup(multi)
    }

    /// Fails queued and running transfers with `shutDown` and ends the thread.
    func stop() {
        let first = inbox.withLock { inbox -> Bool in
            defer { inbox.stopping = true }
            return !inbox.stopping
        }
        guard first else { return }
        curl_multi_wakeup(multi)
        stopped.wait()
    }

    private func run() {
        var active: Int32 = 0
        while true {
            let (added, stopping) = inbox.withLock { inbox in
                defer { inbox.added.removeAll() }
                return (inbox.added, inbox.stopping)
            }
            for transfer in added {
                running[ObjectIdentifier(transfer)] = transfer
                curl_multi_add_handle(multi, transfer.handle)
            }
            for (id, transfer) in running where transfer.cancelRequested.load(ordering: .acquiring) {
                finish(id, .cancelled)
            }
            if stopping {
                for id in Array(running.keys) { finish(id, .shutDown) }
                curl_multi_cleanup(multi)
                stopped.signal()
                return
            }
            curl_multi_perform(multi, &active)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard ischedule_curl_msg_is_done(message) != 0, let handle = ischedule_curl_msg_handle(message),
                    let transfer = CurlTransfer.from(handle)
                else { continue }
                finish(ObjectIdentifier(transfer), .finished(ischedule_curl_msg_result(message)))
            }
            curl_multi_poll(multi, nil, 0, 1_000, nil)
        }
    }

    private func finish(_ id: ObjectIdentifier, _ ending: CurlTransfer.Ending) {
        guard let transfer = running.removeValue(forKey: id) else { return }
        curl_multi_remove_handle(multi, transfer.handle)
        let onEnd = transfer.onEnd
        transfer.onEnd = nil
        onEnd?(ending)
    }
}
