// HTTP request counts and latencies by route, method and status, in the Prometheus registry /metrics renders.
import Foundation
import Locking
import Prometheus

/// The HTTP instruments. Each (route, method, status) gets its counter and histogram once; later requests
/// find them in a small locked dictionary instead of asking the registry again.
public final class HTTPMetrics: Sendable {
    /// The registry /metrics renders: these instruments, and the runtime's when it is the swift-metrics backend.
    public let registry: PrometheusCollectorRegistry
    private let instruments = Locked<[Key: RouteInstruments]>([:])
    /// Connections open now (`picpipe_http_open_connections`); Prometheus' gauges synchronise themselves.
    let openConnections: Gauge
    /// Answers given on the event loop from memory, ahead of the request loop (cached thumbnails of the HTTP API,
    /// cached objects of signed S3 GETs; `picpipe_http_event_loop_answers_total`).
    package let eventLoopAnswers: Counter
    /// Of those, the ones read and answered from the request's bytes, before the HTTP decoder
    /// (`picpipe_http_raw_answers_total`).
    package let rawAnswers: Counter
    /// Of those, the ones given again from the answers kept per event loop, without a look-up
    /// (`picpipe_http_raw_reused_answers_total`).
    package let rawReusedAnswers: Counter
    /// Connections that needed the HTTP decoder and the request loop (a connection the raw path answers alone never
    /// does; `picpipe_http_request_loops_total`).
    package let requestLoops: Counter
    /// Refusals before any route, by error code (`picpipe_http_refusals_total`).
    private let refusals = Locked<[String: Counter]>([:])

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// The counter and histogram of one (route, method, status).
    package final class RouteInstruments: Sendable {
        // Prometheus' Counter and Histogram are Sendable classes that synchronise themselves (atomics, a lock).
        let count: Counter
        let duration: DurationHistogram

        init(count: Counter, duration: DurationHistogram) {
            self.count = count
            self.duration = duration
        }

        /// Records one answered request.
        package func record(_ duration: Duration) {
            count.increment()
            self.duration.record(duration)
        }
    }

    /// Latency buckets, in seconds, from 100 µs to 10 s.
    static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    /// - Parameter registry: where the instruments are registered.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        openConnections = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "http_open_connections", unitName: "",
                helpText: "HTTP connections open now (http.max_connections caps them)."))
        eventLoopAnswers = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "http_event_loop_answers", unitName: "total",
                helpText: "Answers given on the event loop from memory, ahead of the request loop: cached thumbnails (also in the route's counts) and cached objects of signed S3 GETs."))
        rawAnswers = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "http_raw_answers", unitName: "total",
                helpText: "Of the event loop's answers, those read and answered from the request's bytes before the HTTP decoder (plain GET and HEAD requests)."))
        rawReusedAnswers = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "http_raw_reused_answers", unitName: "total",
                helpText: "Of the raw answers, those given again from the answers kept per event loop, without looking the file up again."))
        requestLoops = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "http_request_loops", unitName: "total",
                helpText: "Connections that needed the HTTP decoder and a request loop (the router's requests); a connection whose requests are all answered from the raw bytes never does."))
    }

    /// Records a request or connection refused before any route ran (`uri_too_long`, `header_fields_too_large`,
    /// `header_timeout`, `malformed_request`, `too_many_connections`).
    func recordRefusal(code: String) {
        let counter = refusals.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "picpipe", metricName: "http_refusals", unitName: "total",
                    helpText: "Requests and connections refused before any route ran, by error code."),
                labels: [("code", code)])
            counters[code] = counter
            return counter
        }
        counter.increment()
    }

    /// Records one answered request.
    func record(route: String, method: String, status: Int, duration: Duration) {
        instruments(route: route, method: method, status: status).record(duration)
    }

    /// The instruments of one (route, method, status), registered the first time they are asked for: a caller that
    /// records the same kind of answer over and over keeps them instead of finding them again for every answer.
    package func instruments(route: String, method: String, status: Int) -> RouteInstruments {
        let key = Key(route: route, method: method, status: status)
        return instruments.withLock { $0[key] } ?? make(key)
    }

    private func make(_ key: Key) -> RouteInstruments {
        let labels = [("route", key.route), ("method", key.method), ("status", String(key.status))]
        let made = RouteInstruments(
            count: registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "picpipe", metricName: "http_requests", unitName: "total",
                    helpText: "HTTP requests answered, by route, method and status."),
                labels: labels),
            duration: registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "picpipe", metricName: "http_request_duration", unitName: "seconds",
                    helpText: "Time from request head to response head, by route, method and status."),
                labels: labels, buckets: Self.buckets))
        instruments.withLock { $0[key] = made }
        return made
    }

    /// The Prometheus text exposition of every instrument in the registry.
    func render() -> [UInt8] { registry.emitToBuffer() }
}
