// The handlers of the HTTP API and what they share; the route table maps method + path onto them.
import Crypto
import Foundation
import Hummingbird
import ImageCore
import Logging
import MetadataService
import NIOPosix
import PipelineCore
import ThumbnailService

/// The functions behind the routes, like the Lambda functions behind the article's /phonebook resource.
package struct ImageAPI: Sendable {
    package let settings: FetchSettings
    let layout: StoreLayout
    package let runtime: FunctionRuntime
    let metadata: any MetadataStore
    package let index: any ImageIndex
    let resolver: ImageResolver
    package let lifecycle: ContentLifecycle
    let spool: UploadSpool
    package let uploadSlots: UploadSlots
    /// Event streams open at once: at most half of `http.max_connections`, so long-lived streams never take every
    /// connection from the other requests (and `/healthz`).
    let streamSlots: UploadSlots
    /// The one reader of the journal for every open event stream.
    let eventFeed: PictureEventFeed
    package let validator: UploadValidator
    let files: FileResponder
    let thumbnails: ThumbnailCatalog
    /// The access policy and usage plans in force (a SIGHUP reload replaces them).
    package let live: LiveAccess
    let importer: URLImporter
    let importSpool: UploadSpool
    let metrics: HTTPMetrics
    let storeProbe: StoreProbe
    let logger: Logger

    init(
        settings: FetchSettings, runtime: FunctionRuntime, metadata: any MetadataStore, index: any ImageIndex,
        recipes: [ThumbnailRecipe], metrics: HTTPMetrics, logger: Logger, threadPool: NIOThreadPool = .singleton,
        usageCounter: any UsageCounter = InProcessUsageCounter(), contentLocks: any ContentLocks = LocalContentLocks()
    ) {
        self.settings = settings
        self.layout = runtime.layout
        self.runtime = runtime
        self.metadata = metadata
        self.index = index
        let originals = StoreHandle(area: .originals, access: .write, location: layout.originals, function: "fetch")
        self.resolver = ImageResolver(index: index, originals: originals)
        let cache = FileCache()
        self.lifecycle = ContentLifecycle(
            runtime: runtime, index: index, originals: originals, threadPool: threadPool, cache: cache,
            locks: contentLocks, logger: logger)
        self.spool = UploadSpool(
            folder: layout.uploads, maxBytes: settings.maxBodyBytes, minRate: settings.minUploadRate,
            threadPool: threadPool)
        self.uploadSlots = UploadSlots(limit: settings.maxConcurrentUploads)
        self.streamSlots = UploadSlots(limit: settings.maxConnections / 2)
        self.eventFeed = PictureEventFeed(
            journal: runtime.journal,
            pace: .outcomes(of: runtime, poll: min(max(runtime.settings.pollInterval, 0.05), 1)), logger: logger)
        self.validator = UploadValidator(limits: settings.decodeLimits, threadPool: threadPool)
        self.files = FileResponder(threadPool: threadPool, cache: cache)
        self.thumbnails = ThumbnailCatalog(
            recipes: recipes, root: layout.thumbnails.path, runtime: runtime, maxAge: settings.thumbnailMaxAge)
        self.live = LiveAccess(
            RequestAuthorizer(
                access: AccessPolicy(
                    apiKeys: settings.apiKeys, protectReads: settings.protectReads, signingKey: settings.signingKey,
                    previousSigningKeys: settings.previousSigningKeys, auth: settings.auth, logger: logger),
                usage: UsageLimiter(auth: settings.auth, counter: usageCounter, registry: metrics.registry)))
        self.importer = URLImporter(settings: settings.imports, threadPool: threadPool)
        self.importSpool = UploadSpool(
            folder: layout.uploads, maxBytes: settings.imports.maxBytes, minRate: 0, threadPool: threadPool)
        self.metrics = metrics
        self.storeProbe = StoreProbe(layout: layout, threadPool: threadPool)
        self.logger = logger
    }

    /// Whether a path inside `thumbnails/` is a file of a recipe the HTTP API serves now (`ThumbnailCatalog.serves`):
    /// the S3 API's `thumbnails` bucket lists and serves only those, as the HTTP API does.
    package func servesThumbnail(atPath path: String) -> Bool { thumbnails.serves(path: path) }

    /// Checks credentials and usage plans: every route, and any shortcut past the router, admits requests with it.
    package var authorizer: RequestAuthorizer { live.current }

    /// The access policy in force.
    var access: AccessPolicy { live.current.access }

    /// The id path parameter, validated (400) before anything else happens.
    static func id(_ context: some RequestContext) throws -> ImageID {
        try ImageID.parse(context.parameters.get("id"))
    }

    /// The id resolved to stored content, or 404.
    func resolve(_ id: ImageID) throws -> ResolvedImage {
        guard let resolved = try resolver.resolve(id) else { throw APIError.imageNotFound(id.value) }
        return resolved
    }

    /// A JSON response.
    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        let body = ByteBuffer(string: text)
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body))
    }

    /// A JSON answer with an ETag made from its bytes (the first 16 of their SHA-256), or 304 when the request's
    /// If-None-Match names it: a client that revalidates gets no body while nothing changed (until session 32 the
    /// cameras and the metadata had no validator, so each revalidation was a full download).
    static func json(_ text: String, validating request: Request, headers: HTTPFields) -> Response {
        var fields = headers
        let digest = SHA256.hash(data: Array(text.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let eTag = "\"\(digest)\""
        fields[.eTag] = eTag
        if FileResponder.matches(request.headers[.ifNoneMatch], eTag: eTag) {
            return Response(status: .notModified, headers: fields)
        }
        return json(text, headers: fields)
    }
}
