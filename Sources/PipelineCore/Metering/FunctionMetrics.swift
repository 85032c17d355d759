// Live swift-metrics instruments for one function; a backend (Prometheus, …) bootstrapped by the app exports them.
import Metrics

/// The instruments the runtime updates for one function, labelled `function=NAME`.
struct FunctionMetrics: Sendable {
    let invocations: Counter
    let errors: Counter
    let retries: Counter
    let throttles: Counter
    let deadLettered: Counter
    let duration: Metrics.Timer
    let gbSeconds: FloatingPointCounter
    let queueDepth: Gauge
    let oldestQueuedAge: Gauge

    init(function: String) {
        let dimensions = [("function", function)]
        invocations = Counter(label: "picpipe_invocations_total", dimensions: dimensions)
        errors = Counter(label: "picpipe_invocation_errors_total", dimensions: dimensions)
        retries = Counter(label: "picpipe_invocation_retries_total", dimensions: dimensions)
        throttles = Counter(label: "picpipe_invocation_throttles_total", dimensions: dimensions)
        deadLettered = Counter(label: "picpipe_dead_letters_total", dimensions: dimensions)
        duration = Metrics.Timer(
            label: "picpipe_invocation_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        gbSeconds = FloatingPointCounter(label: "picpipe_gb_seconds_total", dimensions: dimensions)
        queueDepth = Gauge(label: "picpipe_queue_depth", dimensions: dimensions)
        oldestQueuedAge = Gauge(label: "picpipe_oldest_queued_age_seconds", dimensions: dimensions)
    }

    /// Records one finished attempt.
    func record(attempt: Int, duration seconds: Double, memoryMB: Int, failed: Bool) {
        invocations.increment()
        if failed { errors.increment() }
        if attempt > 1 { retries.increment() }
        duration.recordNanoseconds(Int64(seconds * 1e9))
        gbSeconds.increment(by: seconds * Double(memoryMB) / 1024)
    }

    /// Sets the gauges from the journal's queue.
    func update(from queue: QueueDepth) {
        queueDepth.record(queue.waiting)
        oldestQueuedAge.record(queue.oldestAge)
    }
}
