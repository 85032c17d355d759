// picpipe's HTTP/1.1 listener, in place of Hummingbird's `Server` (the same socket options, the same graceful
// shutdown through NIOExtras' quiescing helper): a connection gets Hummingbird's request loop, and the task that runs
// it, only when one of its requests needs them (`GuardedHTTP1Channel.open`). Without keep-alive, every connection
// of a page of cached thumbnails used to pay for the decoder's pipeline, the request loop and its task: half of what
// serving it cost.
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTPTypes
import NIOPosix
import PipelineCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Listens on a TCP address and serves each connection: the raw path first, a Hummingbird responder behind it.
package struct HTTPListener: Service, CustomStringConvertible {
    package var description: String { "HTTPListener" }

    /// Sets up each connection and runs its request loop.
    let connection: GuardedHTTP1Channel
    let address: ListenAddress
    /// Connects the kernel queues before they are accepted.
    let backlog: Int
    let group: any EventLoopGroup
    let logger: Logger
    /// Called with the bound port once the listener listens (port 0 picks a free one).
    let onServerRunning: @Sendable (Int) async -> Void
    /// When serve's shutdown grace ends (`FetchSettings.shutdown`).
    let shutdown: ShutdownDeadline

    /// - Parameters:
    ///   - responder: answers the requests the raw path does not (the router).
    ///   - settings: the listen address and the limits against hostile clients (head size, target length, head
    ///     timeout, connection cap, idle and send timeouts).
    ///   - metrics: the HTTP instruments (open connections, refusals, raw answers).
    ///   - shortcut: what is answered from memory ahead of the request loop (none: every request takes the loop).
    ///   - serverName: the `Server` field of every answer.
    ///   - requestIDField: the field that carries a request id (`RequestID`) on the answers made ahead of the
    ///     responder (which adds its own); `nil`: none.
    ///   - refusals: how the refusals made ahead of the responder are worded (default: the HTTP API's JSON error,
    ///     its id in `requestIDField`).
    package init<Responder: HTTPResponder>(
        responder: Responder, settings: FetchSettings, metrics: HTTPMetrics, shortcut: (any EventLoopShortcut)?,
        serverName: String, requestIDField: HTTPField.Name? = nil, refusals: RefusalForm? = nil,
        group: any EventLoopGroup, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void
    ) where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let limits = RequestLimits(
            maxURIBytes: settings.maxURIBytes, maxHeaderBytes: settings.maxHeaderBytes,
            headerTimeout: .nanoseconds(Int64(settings.headerTimeout / .nanoseconds(1))))
        connection = GuardedHTTP1Channel(
            responder: Self.requestHandler(responder, serverName: serverName, logger: logger),
            idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)),
            sendTimeout: .nanoseconds(Int64(settings.sendTimeout / .nanoseconds(1))), limits: limits,
            connections: ConnectionCount(limit: settings.maxConnections, gauge: metrics.openConnections),
            metrics: metrics, shortcut: shortcut, requestIDField: requestIDField, refusals: refusals,
            serverName: serverName, shutdown: settings.shutdown)
        shutdown = settings.shutdown
        address = settings.listen
        // Room for a burst of connects up to the connection cap (Hummingbird's 256 overflowed when 500 slow clients
        // reconnected at once, and a dropped SYN costs the client a 1 s retransmit).
        backlog = min(max(256, settings.maxConnections), 4096)
        self.group = group
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// Runs until graceful shutdown: then it stops accepting, closes idle connections, lets the others finish the
    /// answer in progress, and returns when all are closed. A body still arriving when the shutdown grace ends is
    /// cut (`ConnectionStateHandler`), so no client holds the shutdown past it.
    package func run() async throws {
        let (loops, startLoop) = AsyncStream.makeStream(of: GuardedHTTP1Channel.Value.self)
        let connection = self.connection
        let logger = self.logger
        let listeners = try await bindListeners(startLoop: startLoop)
        let port = listeners.first?.channel.localAddress?.port ?? address.port
        logger.info("Server started and listening on \(address.host):\(port)")
        await onServerRunning(port)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await loop in loops {
                    group.addTask { await connection.handle(value: loop, logger: logger) }
                }
            }
        } onGracefulShutdown: { [shutdown] in
            shutdown.begin()
            let closed = listeners.map { listener in
                let promise = listener.channel.eventLoop.makePromise(of: Void.self)
                listener.quiescing.initiateShutdown(promise: promise)
                return promise.futureResult
            }
            // Every connection is closed: no request loop will start.
            EventLoopFuture.andAllComplete(closed, on: group.any()).whenComplete { _ in startLoop.finish() }
        }
        // Cancelled rather than shut down: stop listening and close the connections (a second call joins the first).
        for listener in listeners { listener.quiescing.initiateShutdown(promise: nil) }
    }

    /// A listening socket and what closes its connections at shutdown.
    struct Listener {
        let channel: any Channel
        let quiescing: ServerQuiescingHelper
    }

    /// One listener per event loop, sharing the address with `SO_REUSEPORT` (the kernel spreads connections over
    /// them): a connection is accepted and served on one loop, without the two cross-thread hops of handing it from
    /// the accepting loop to another. A given port is first bound once without `SO_REUSEPORT`, so it is taken by no
    /// one (another `serve` on the same port is refused, not joined); port 0 is bound by the first listener, and the
    /// others join the port it got.
    private func bindListeners(
        startLoop: AsyncStream<GuardedHTTP1Channel.Value>.Continuation
    ) async throws -> [Listener] {
        let loops = Array(group.makeIterator())
        guard loops.count > 1 else {
            return [try await bindListener(on: group, port: address.port, sharingPort: false, startLoop: startLoop)]
        }
        var listeners: [Listener] = []
        var others = loops[...]
        let port: Int
        if address.port == 0 {
            // Any free port: the first listener takes one with SO_REUSEPORT at once (the kernel gives a port-0 bind a
            // port no socket uses, never one to join). A probe closed and bound again left a moment in which another
            // port-0 bind could be given the same port: a test server then failed to start, or two shared a port.
            let first = try await bindListener(on: loops[0], port: 0, sharingPort: true, startLoop: startLoop)
            listeners.append(first)
            others = loops.dropFirst()
            port = first.channel.localAddress?.port ?? 0
        } else {
            let probe = try await bindListener(
                on: loops[0], port: address.port, sharingPort: false, startLoop: startLoop)
            port = probe.channel.localAddress?.port ?? address.port
            try await probe.channel.close()
        }
        do {
            for loop in others {
                listeners.append(try await bindListener(on: loop, port: port, sharingPort: true, startLoop: startLoop))
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            throw error
        }
        return listeners
    }

    private func bindListener(
        on group: any EventLoopGroup, port: Int, sharingPort: Bool,
        startLoop: AsyncStream<GuardedHTTP1Channel.Value>.Continuation
    ) async throws -> Listener {
        let quiescing = ServerQuiescingHelper(group: group)
        let connection = self.connection
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(backlog))
            // Up to 16 connections accepted per wake-up of the listening socket (NIO's default is 4): fewer trips
            // through epoll when clients connect for each request (A/B without keep-alive: +5-8 % requests/s).
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(
                ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: sharingPort ? 1 : 0
            )
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    try server.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: server))
                }
            }
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try connection.open(channel: child, logger: logger) { startLoop.yield($0) }
                }
            }
            .bind(host: address.host, port: port).get()
        return Listener(channel: channel, quiescing: quiescing)
    }

    /// Hummingbird's request handling as its `Application` does it: the context, a 500 for an error the responder
    /// did not answer, and the Date and Server fields.
    static func requestHandler<Responder: HTTPResponder>(
        _ responder: Responder, serverName: String, logger: Logger
    ) -> HTTPChannelHandler.Responder
    where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let dates = Mutex(HTTPDateCache())
        return { request, writer, channel in
            let context = Responder.Context(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                // The request loop answers 400 and closes.
                throw error
            } catch {
                logger.debug("unanswered error", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = dates.withLock { $0.current() }
            response.headers[.server] = serverName
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // Not a parse error to the request loop, which would write a second answer.
                throw ResponseWriteFailed()
            }
        }
    }

    /// The client's next request could not be parsed while an answer was being written.
    struct ResponseWriteFailed: Error {}
}
