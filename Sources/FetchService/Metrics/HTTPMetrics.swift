// HTTP request counts and latencies by route, method and status, in the Prometheus registry /metrics renders.
import Foundation
import Prometheus
import Synchronization

/// The HTTP instruments. Each (route, method, status) gets its counter and histogram once; later requests
/// find them in a small locked dictionary instead of asking the registry again.
public final class HTTPMetrics: Sendable {
    /// The registry /metrics renders: these instruments, and the runtime's when it is the swift-metrics backend.
    public let registry: PrometheusCollectorRegistry
    private let instruments = Mutex<[Key: Instruments]>([:])

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private struct Instruments: @unchecked Sendable {
        // Prometheus' Counter and DurationHistogram are final classes that synchronise themselves (atomics, locks).
        let count: Counter
        let duration: DurationHistogram
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
    }

    /// Records one answered request.
    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let found = instruments.withLock { $0[key] }
        let instruments = found ?? make(key)
        instruments.count.increment()
        instruments.duration.record(duration)
    }

    private func make(_ key: Key) -> Instruments {
        let labels = [("route", key.route), ("method", key.method), ("status", String(key.status))]
        let made = Instruments(
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
