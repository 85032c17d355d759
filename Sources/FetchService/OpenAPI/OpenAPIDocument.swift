// The OpenAPI 3.1 description of every route, parameter, response and error, served at /openapi.yaml and
// /openapi.json. It lives in the binary (not a resource bundle) so an installed `picpipe` serves it too.
import Foundation
import Yams

/// The API's OpenAPI document.
public enum OpenAPIDocument {
    /// The document as JSON, converted once from the YAML.
    public static let json: String = {
        guard let object = try? Yams.load(yaml: yaml),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }()

    /// Every `METHOD /path` the document describes (uppercase method), for checking against the route table.
    public static func operations() throws -> Set<String> {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any], let paths = root["paths"] as? [String: Any] else {
            return []
        }
        var found: Set<String> = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "head", "post", "put", "delete", "patch", "options"] where item[method] != nil {
                found.insert("\(method.uppercased()) \(path)")
            }
        }
        return found
    }

    /// The document as written.
    public static let yaml = #"""
        openapi: 3.1.0
        info:
          title: picpipe fetch service
          version: 1.0.0
          description: |
            The HTTP API of `picpipe serve`: originals, thumbnails and metadata of the pictures in a store, and
            uploads, replacements and deletions, each route mapped to one function (see RouteTable.swift).

            **Ids.** An id matches `[A-Za-z0-9._-]{1,128}` and is neither `.` nor `..`; anything else is 400
            `invalid_id` before the store is touched. Files are found from the content hash an id resolves to,
            never from the id's text. Resolution:
            1. an id created by this API (POST: the SHA-256 of the bytes; PUT: a name chosen by the client) names
               the content recorded for it in `STORE/db/fetch.sqlite`;
            2. otherwise an id of 64 lowercase hex digits names the stored original with that SHA-256, provided no
               id created by this API names that content (pictures dropped into `uploads/` or made by `batch`);
            3. anything else is 404 `not_found`.

            **Listing.** `GET /images` walks the metadata database newest first (`taken_at`, else `added_at` for a
            picture without an EXIF date, descending, then SHA-256) and lists, for each picture, the ids that resolve
            to it, sorted; a picture appears once the metadata function has read it. `taken_after` and `taken_before`
            filter on `taken_at` only: a picture without an EXIF date matches neither.

            **Deleting.** `DELETE` removes the id; when no id created by this API names the content any more, the
            original is removed, then the thumbnail and metadata functions run the `ObjectRemoved:Delete` event at once
            (RequestResponse). Work on the picture that finishes later keeps nothing, and nothing of it is served again.
            A picture that also arrived through `uploads/` is removed with its last HTTP id.

            **Uploads** must be JPEG, PNG, WebP, GIF, HEIC/HEIF or AVIF bytes (sniffed, never from the Content-Type
            alone) decodable within the limits; anything else is 415 or 422 and nothing is kept.

            **Thumbnail formats.** With `http.negotiate_formats` on (the default), a thumbnail is answered in AVIF or
            WebP when the Accept header names `image/avif` or `image/webp` (the higher q wins, AVIF on a tie), else in
            the configured format (`thumbnails.format`, JPEG), with `Vary: Accept`; `?format=jpeg|png|webp|avif`
            forces one. Each format is its own derivative with its own ETag, made at once when missing.

            **Auth.** `Authorization: Bearer <credential>` carries an API key (`http.api_keys`: every scope;
            `auth.api_keys`: each with its scopes) or a JWT from the OIDC issuer `auth.oidc.issuer` (RS256 or
            ES256, checked against its JWKS, audience, expiry; scopes from `scope`/`scp` or `auth.oidc.scope_claim`).
            Scopes: `images:read` (reads, signed-URL minting), `images:write` (POST, PUT), `images:delete` (DELETE),
            `functions:invoke`, `admin` (all). With credentials configured, POST, PUT and DELETE need them; with
            `http.protect_reads` reads need them too. Without any the server only listens on loopback. None (or
            another scheme than Bearer) where they are needed is 401 `unauthorized` with `WWW-Authenticate: Bearer
            realm="picpipe"`; bad ones (an unknown API key, a token that does not verify) are 401 `invalid_token` with
            `WWW-Authenticate: Bearer realm="picpipe", error="invalid_token", error_description="..."`; a missing
            scope is 403 `insufficient_scope` naming it; `GET /auth/me` says who a credential names and which scopes it
            holds. Thumbnail URLs may carry `expires` and `sig` (HMAC-SHA256 of
            `"<path>\n<expires>"` with `http.signing_key`, or one of `http.previous_signing_keys`, hex), which stand in
            for credentials.

            **Usage plans.** A caller (API key or token subject) with a plan (`auth.usage_plan`, or the key's own) is
            held to a token bucket (rate, burst) and a daily quota: every answer to a request it admitted (errors
            too) carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds) of the limit
            closest to running out (the bucket, or the quota once no more of the day's requests are left than
            tokens), and past the limit the answer is 429 `too_many_requests` with `Retry-After`. A 401, or a 403 for
            a missing scope, comes before the plan and carries none.

            **Errors** are `{"error": {"code": "...", "message": "...", "request_id": "..."}}` with the status of the
            table below.

            **Request ids.** Every answer carries `X-Request-Id`: the id a proxy in front sent in `X-Request-Id` when it
            is 1 to 128 letters, digits and `-_.:+/=`, else a new one of 16 hex digits. An error body names it as
            `request_id`, and so does the server's log line for a failure (500), or, at log level debug, for any other
            refusal.

            **Connections.** Before any route runs, every request is held to these limits, each refused with the
            JSON error and `Connection: close`, after which the connection closes: a request target over
            `http.max_uri_bytes` is 414 `uri_too_long`; headers over `http.max_header_bytes` are 431
            `header_fields_too_large`; a head not complete `http.header_timeout` seconds after its first byte is 408
            `header_timeout`; a head the HTTP parser refuses (two Content-Length headers, Content-Length beside
            Transfer-Encoding, a Transfer-Encoding not ending in chunked, ...) is 400 `malformed_request`; a body in a
            Transfer-Encoding other than chunked alone (`gzip, chunked`) or a method the server does not know (any
            other token, `FOO`) is 501 `not_implemented`; an HTTP version other than 1.0 and 1.1 (`HTTP/2.0`) is 505
            `http_version_not_supported`; and a connection past `http.max_connections` is
            answered 503 `too_many_connections` (with Retry-After) before it sends anything.
        servers:
          - url: http://127.0.0.1:8080
        security:
          - {}
          - bearer: []
        # The fields any answer of a route may carry, merged into each response's headers (`<<: *answerHeaders`).
        x-answer-headers: &answerHeaders
          X-Request-Id: {$ref: "#/components/headers/X-Request-Id"}
          Vary: {$ref: "#/components/headers/Vary"}
          X-RateLimit-Limit: {$ref: "#/components/headers/X-RateLimit-Limit"}
          X-RateLimit-Remaining: {$ref: "#/components/headers/X-RateLimit-Remaining"}
          X-RateLimit-Reset: {$ref: "#/components/headers/X-RateLimit-Reset"}
        paths:
          /images:
            get:
              operationId: listImages
              summary: List images, newest first.
              parameters: &listImagesParameters
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 50}}
                - {name: cursor, in: query, description: "The next_cursor of the previous page (not empty).", schema: {type: string, minLength: 1}}
                - {name: make, in: query, description: "Camera make, compared without case; empty: not given (what an HTML form sends for Any), as for every filter.", schema: {type: string}}
                - {name: model, in: query, description: "Camera model, compared without case; empty: not given.", schema: {type: string}}
                - {name: taken_after, in: query, description: "taken_at >= this: YYYY[-MM[-DD[THH:MM[:SS]]]], a prefix such as 2024-05 works; a field outside the calendar (month 13, February 30) is 400; empty: not given.", schema: {type: string, pattern: '^([0-9]{4}([-:][0-9]{2}([-:][0-9]{2}([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2})?)?)?)?)?)?$', example: "2024-05"}}
                - {name: taken_before, in: query, description: "taken_at < this, in the shape of taken_after; empty: not given.", schema: {type: string, pattern: '^([0-9]{4}([-:][0-9]{2}([-:][0-9]{2}([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2})?)?)?)?)?)?$', example: "2025"}}
                - {name: bbox, in: query, description: "S,W,N,E in decimal degrees; W > E crosses the antimeridian, and longitude 180 and -180 are one meridian (an edge on either holds positions written with the other); empty: not given.", schema: {type: string, example: "48.8,2.2,48.9,2.5"}}
                - {name: near, in: query, description: "LAT,LON,KM: within KM kilometres (0 < KM <= 20000) of a point (decimal degrees); with bbox, what is in both; a 400 names the value that is wrong; empty: not given.", schema: {type: string, example: "48.85,2.35,10"}}
              responses:
                "200":
                  description: A page of images.
                  headers:
                    <<: *answerHeaders
                    Cache-Control: {$ref: "#/components/headers/JSONCacheControl"}
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ImageList"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            post:
              operationId: uploadImage
              summary: Upload an image, or import one by URL; its id is the SHA-256 of its bytes (the same bytes give the same id).
              description: |
                The body is streamed to disk while it is hashed, checked (JPEG, PNG, WebP, GIF, HEIC or AVIF, decodable within the limits)
                and stored as an original; an ObjectCreated:Put event then queues the thumbnail and metadata functions.

                An `application/json` body `{"url": "https://…"}` invokes the fetch function instead (needs
                `functions:invoke` besides `images:write` when credentials are configured), with the settings of
                `functions.fetch` (timeout, retries, dead letter, concurrency, memory bound). `invocation_type` Event
                (the default) queues it: 202 with the invocation id and its journal record (`ObjectImport:URL`); failures
                then show in `picpipe events` and the dead letter. RequestResponse fetches now and answers 201 with the
                stored picture, or 200 (`duplicate` true) when the same URL had given the same bytes before. Checks: http and https only (400 `url_refused` before anything is queued); the
                addresses the host resolves to, and every redirect's (at most `import.max_redirects`), are refused
                when loopback, private, link-local, CGNAT, multicast or reserved (IPv4-mapped and embedded IPv6
                included) unless `import.allow` lists them (400 `url_refused`); a source that cannot be fetched, answers
                an error or redirects too often is 422 `import_failed`, one slower than `import.timeout` 422
                `import_timeout`, one over `import.max_bytes` 413 `import_too_large`; the type is sniffed from the
                bytes (415). The picture then takes a dropped file's path: the URL becomes its name and the source name
                of its ObjectCreated:Put event, which queues the thumbnail and metadata functions.
              parameters:
                - {name: name, in: query, description: "A display name (a multipart part's filename wins).", schema: {type: string}}
              requestBody:
                required: true
                content:
                  image/jpeg: {schema: {type: string, format: binary, minLength: 1}}
                  image/png: {schema: {type: string, format: binary, minLength: 1}}
                  image/webp: {schema: {type: string, format: binary, minLength: 1}}
                  image/gif: {schema: {type: string, format: binary, minLength: 1}}
                  image/heic: {schema: {type: string, format: binary, minLength: 1}}
                  image/heif: {schema: {type: string, format: binary, minLength: 1}}
                  image/avif: {schema: {type: string, format: binary, minLength: 1}}
                  multipart/form-data:
                    schema:
                      type: object
                      description: The first part with a filename (or named file) is the image; other parts are ignored. A form without one is 400, and so is one with a second file part (too_many_files; one file per request, nothing is kept).
                      required: [file]
                      properties:
                        file: {type: string, format: binary, minLength: 1}
                  application/json:
                    schema:
                      type: object
                      description: An import by URL.
                      required: [url]
                      properties:
                        url: {type: string, minLength: 1, maxLength: 2048, example: "https://example.com/cat.jpg"}
                        invocation_type: {type: string, enum: [Event, RequestResponse], default: Event}
              responses:
                "201":
                  description: "An import (RequestResponse): fetched and stored; thumbnails and metadata follow."
                  headers: &importedHeaders
                    <<: *answerHeaders
                    Location: {schema: {type: string}, description: "/images/{id}"}
                    ETag: {schema: {type: string}, description: "The stored picture's ETag (\"<sha256>\")."}
                  content: &importedContent
                    application/json:
                      schema:
                        type: object
                        required: [id, sha256, size, format, source, invocation_id]
                        properties:
                          id: {type: string}
                          sha256: {type: string}
                          key: {type: string}
                          size: {type: integer}
                          format: {type: string}
                          source: {type: string, description: The URL.}
                          event_id: {type: integer, description: The ObjectCreated:Put event.}
                          duplicate: {type: boolean, description: The same bytes from the same URL were already imported.}
                          invocation_id: {type: integer}
                          invocation_type: {type: string}
                "200":
                  description: "An import (RequestResponse) of a URL that had given the same bytes before: nothing new was stored (duplicate is true)."
                  headers: *importedHeaders
                  content: *importedContent
                "202":
                  description: "An upload: stored, thumbnails and metadata follow (id, Location). An import (Event): the fetch invocation is queued (invocation_id, event_id, record)."
                  headers:
                    <<: *answerHeaders
                    Location: {schema: {type: string}, description: "/images/{id} (an upload)"}
                    ETag: {schema: {type: string}, description: "The upload's ETag (\"<sha256>\")."}
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          id: {type: string}
                          function: {type: string, enum: [fetch]}
                          invocation_type: {type: string}
                          state: {type: string}
                          invocation_id: {type: [integer, "null"]}
                          event_id: {type: [integer, "null"]}
                          source: {type: string, description: The URL of an import.}
                          record: {type: [object, "null"], description: "The journal record: an S3-shaped ObjectImport:URL event."}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "408": {$ref: "#/components/responses/UploadTooSlow"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "415": {$ref: "#/components/responses/UnsupportedMediaType"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "501": {$ref: "#/components/responses/NotImplemented"}
                "503": {$ref: "#/components/responses/Unavailable"}
                "507": {$ref: "#/components/responses/StoreFull"}
            head:
              operationId: headListImages
              summary: As GET /images, without a body (the same status and headers).
              parameters: *listImagesParameters
              responses:
                "200": {description: "As GET, without a body."}
                "400": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "403": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /images/{id}:
            parameters:
              - $ref: "#/components/parameters/id"
            get:
              operationId: getImage
              summary: The original.
              parameters:
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatch"
                - $ref: "#/components/parameters/range"
                - $ref: "#/components/parameters/ifRange"
              responses:
                "200": {$ref: "#/components/responses/File"}
                "206": {$ref: "#/components/responses/PartialFile"}
                "304": {$ref: "#/components/responses/NotModified"}
                "412": {$ref: "#/components/responses/PreconditionFailed"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "404": {$ref: "#/components/responses/NotFound"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "416": {$ref: "#/components/responses/RangeNotSatisfiable"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headImage
              summary: The original's headers.
              parameters:
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatch"
                - $ref: "#/components/parameters/range"
              responses:
                "200": {description: "As GET, without a body."}
                "206": {description: "As GET, without a body."}
                "304": {$ref: "#/components/responses/NotModified"}
                "412": {description: "If-Match or If-Unmodified-Since does not hold (no body)."}
                "400": {description: Invalid id (no body).}
                "401": {description: Credentials are needed or are not good (no body).}
                "403": {description: "A scope is missing, or a bad or expired signature (no body)."}
                "429": {description: Over the caller's usage plan (no body).}
                "404": {description: No such image (no body).}
                "414": {description: The request target is over http.max_uri_bytes (no body).}
                "416": {description: Range outside the file (no body).}
                "431": {description: The headers are over http.max_header_bytes (no body).}
                "503": {description: "The token issuer cannot be reached (issuer_unavailable), or the store cannot take the write (no body)."}
            put:
              operationId: putImage
              summary: Create or replace the image under a client-chosen id.
              description: |
                A 64-hex-digit id is a content id: the body must be the bytes with that SHA-256, else 409
                `content_id_mismatch`. When the id named other content, that content is removed if no other id uses it. The event is ObjectCreated:Put (as for S3 PutObject, new id or replaced); thumbnails and metadata follow.
                Preconditions (RFC 9110 §13) are checked before the body is read and again when the id moves, in one
                step with the move: `If-Match` (the current ETag, `*` any), `If-Unmodified-Since`, `If-None-Match`
                (`*`: create only); one that does not hold is 412 and nothing changes.
              parameters:
                - {name: name, in: query, schema: {type: string}}
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatchWrite"
              requestBody:
                required: true
                content:
                  image/jpeg: {schema: {type: string, format: binary, minLength: 1}}
                  image/png: {schema: {type: string, format: binary, minLength: 1}}
                  image/webp: {schema: {type: string, format: binary, minLength: 1}}
                  image/gif: {schema: {type: string, format: binary, minLength: 1}}
                  image/heic: {schema: {type: string, format: binary, minLength: 1}}
                  image/heif: {schema: {type: string, format: binary, minLength: 1}}
                  image/avif: {schema: {type: string, format: binary, minLength: 1}}
                  multipart/form-data:
                    schema:
                      type: object
                      description: As for POST /images, one file part.
                      required: [file]
                      properties:
                        file: {type: string, format: binary, minLength: 1}
              responses:
                "200": {$ref: "#/components/responses/Put"}
                "201": {$ref: "#/components/responses/Put"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "408": {$ref: "#/components/responses/UploadTooSlow"}
                "409":
                  description: content_id_mismatch (a 64-hex-digit id with a body whose SHA-256 is another).
                  headers: *answerHeaders
                  content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
                "412": {$ref: "#/components/responses/PreconditionFailed"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "415": {$ref: "#/components/responses/UnsupportedMediaType"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "501": {$ref: "#/components/responses/NotImplemented"}
                "503": {$ref: "#/components/responses/Unavailable"}
                "507": {$ref: "#/components/responses/StoreFull"}
            delete:
              operationId: deleteImage
              summary: Remove the id, and the content (thumbnails, metadata, original) when no other id uses it.
              description: |
                `If-Match`, `If-Unmodified-Since` and `If-None-Match` are checked in one step with the removal: one
                that does not hold is 412 and the id stays.
              parameters:
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatchWrite"
              responses:
                "204": {description: Removed., headers: *answerHeaders}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "404": {$ref: "#/components/responses/NotFound"}
                "412": {$ref: "#/components/responses/PreconditionFailed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
          /images/{id}/thumbnails/{size}:
            parameters:
              - $ref: "#/components/parameters/id"
              - {name: size, in: path, required: true, description: "A configured size label (thumbnails.sizes, e.g. 256).", schema: {type: string}}
              - {name: expires, in: query, description: "Signed URLs only, seconds since 1970 (not an integer: 400).", schema: {type: integer, minimum: 0, maximum: 99999999999}}
              - {name: sig, in: query, description: "Signed URLs only, hex HMAC-SHA256.", schema: {type: string}}
              - {name: format, in: query, description: "Forces the format, written as listed (jpg is jpeg); any other value, JPEG included, is 400 naming these. Without it the format comes from Accept (http.negotiate_formats).", schema: {type: string, enum: [jpeg, jpg, png, webp, avif]}}
              - {name: Accept, in: header, description: "image/avif or image/webp named here (q > 0) gets that format; anything else the configured one.", schema: {type: string}}
            get:
              operationId: getThumbnail
              summary: A thumbnail; made at once (RequestResponse) when it does not exist yet.
              description: |
                Under a content id Cache-Control is public, max-age=http.thumbnail_max_age (86400 by default), not
                immutable: the URL does not name the recipe (quality, fit, format preset, colour), so after a preset
                change it serves other bytes, which a cache gets when it revalidates (the ETag names the recipe).
                Under a PUT id it is public, no-cache (revalidate with the ETag).
              parameters:
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatch"
                - $ref: "#/components/parameters/range"
                - $ref: "#/components/parameters/ifRange"
              responses:
                "200": {$ref: "#/components/responses/File"}
                "206": {$ref: "#/components/responses/PartialFile"}
                "304": {$ref: "#/components/responses/NotModified"}
                "412": {$ref: "#/components/responses/PreconditionFailed"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "416": {$ref: "#/components/responses/RangeNotSatisfiable"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headThumbnail
              summary: A thumbnail's headers (made at once when missing).
              parameters:
                - $ref: "#/components/parameters/ifMatch"
                - $ref: "#/components/parameters/ifUnmodifiedSince"
                - $ref: "#/components/parameters/ifNoneMatch"
                - $ref: "#/components/parameters/range"
              responses:
                "200": {description: "As GET, without a body."}
                "206": {description: "As GET, without a body."}
                "304": {$ref: "#/components/responses/NotModified"}
                "412": {description: "If-Match or If-Unmodified-Since does not hold (no body)."}
                "400": {description: Invalid id (no body).}
                "401": {description: Credentials are needed or are not good (no body).}
                "403": {description: "A scope is missing, or a bad or expired signature (no body)."}
                "429": {description: Over the caller's usage plan (no body).}
                "404": {description: No such image or size (no body).}
                "414": {description: The request target is over http.max_uri_bytes (no body).}
                "416": {description: Range outside the file (no body).}
                "422": {description: The original cannot be made into thumbnails (no body).}
                "431": {description: The headers are over http.max_header_bytes (no body).}
                "503": {description: "The token issuer cannot be reached (issuer_unavailable), the store cannot take the write, or the function making the thumbnail ran past its timeout (function_timeout; Retry-After) (no body)."}
          /images/{id}/signed-url:
            parameters:
              - $ref: "#/components/parameters/id"
            post:
              operationId: signImageURL
              summary: Mint a signed thumbnail URL (the one the listing signs) for a size and a lifetime.
              description: |
                Needs `images:read` whenever credentials are configured. The URL is signed with `http.signing_key`;
                URLs signed with `http.previous_signing_keys` keep working until they expire.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [size]
                      properties:
                        size: {oneOf: [{type: integer}, {type: string}], description: "A configured size (thumbnails.sizes), as a number or as text: 256 or \"256\".", examples: [256]}
                        expires_in: {type: integer, minimum: 1, maximum: 604800, description: "Seconds (default 3600 when absent; null is 400)."}
              responses:
                "200":
                  description: The signed URL.
                  headers: *answerHeaders
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [url, expires, expires_at]
                        properties:
                          url: {type: string}
                          expires: {type: integer}
                          expires_at: {type: string}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
                "409":
                  description: signing_disabled (no http.signing_key).
                  headers: *answerHeaders
                  content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
                "413": {$ref: "#/components/responses/TooLarge"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
          /images/{id}/metadata:
            parameters:
              - $ref: "#/components/parameters/id"
            get:
              operationId: getMetadata
              summary: The metadata JSON of the metadata service (read at once if its function has not run yet).
              parameters:
                - $ref: "#/components/parameters/ifNoneMatch"
              responses:
                "200":
                  description: "The normalised metadata: id first, then file, make, model, ..., sha256, exif_error, exif."
                  headers:
                    <<: *answerHeaders
                    ETag: {$ref: "#/components/headers/JSONETag"}
                    Cache-Control: {schema: {type: string, enum: ["public, no-cache", "private, no-cache"]}, description: "Kept, but revalidated (a 304 by the ETag) before every use; private when reads need credentials."}
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Metadata"}
                "304": {$ref: "#/components/responses/NotModified"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "404": {$ref: "#/components/responses/NotFound"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headMetadata
              summary: As GET /images/{id}/metadata, without a body (the same status and headers).
              parameters:
                - $ref: "#/components/parameters/ifNoneMatch"
              responses:
                "200": {description: "As GET, without a body."}
                "304": {description: "As GET, without a body."}
                "400": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "403": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "404": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "422": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /healthz:
            get:
              operationId: health
              summary: "Health: the store's disk, the journal and the queue depths."
              security: [{}]
              responses:
                "200":
                  description: Up and able to take work.
                  headers: *answerHeaders
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Health"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503":
                  description: Degraded; the store is full or read-only, or the journal (its database) cannot be read (stored files may still be served).
                  headers: *answerHeaders
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Health"}
            head:
              operationId: headHealth
              summary: As GET /healthz, without a body (the same status and headers).
              security: [{}]
              responses:
                "200": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /metrics:
            get:
              operationId: metrics
              summary: "Prometheus text: picpipe_http_requests_total and picpipe_http_request_duration_seconds by route, method and status; the runtime's picpipe_invocations_total, picpipe_invocation_duration_seconds, picpipe_queue_depth, ... by function."
              responses:
                "200":
                  description: Prometheus text exposition format 0.0.4.
                  headers: *answerHeaders
                  content:
                    text/plain: {schema: {type: string}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headMetrics
              summary: As GET /metrics, without a body (the same status and headers).
              responses:
                "200": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "403": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /openapi.json:
            get:
              operationId: openAPIJSON
              summary: This document as JSON.
              security: [{}]
              responses:
                "200":
                  description: The document.
                  headers: *answerHeaders
                  content:
                    application/json: {schema: {type: object}}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
            head:
              operationId: headOpenAPIJSON
              summary: As GET /openapi.json, without a body (the same status and headers).
              security: [{}]
              responses:
                "200": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
          /openapi.yaml:
            get:
              operationId: openAPIYAML
              summary: This document as YAML.
              security: [{}]
              responses:
                "200":
                  description: The document.
                  headers: *answerHeaders
                  content:
                    application/yaml: {schema: {type: object, description: This document.}}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
            head:
              operationId: headOpenAPIYAML
              summary: As GET /openapi.yaml, without a body (the same status and headers).
              security: [{}]
              responses:
                "200": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
          /cameras:
            get:
              operationId: listCameras
              summary: The distinct cameras (make and model) of the stored pictures, with counts; the gallery's filter choices.
              parameters:
                - $ref: "#/components/parameters/ifNoneMatch"
                - name: limit
                  in: query
                  description: Only this many cameras, the most used (a tie goes to the first in sort order); without it, every camera (until session 34 it was ignored).
                  schema: {type: integer, minimum: 1}
                - name: match
                  in: query
                  description: Only the cameras whose make or model holds this text, without case; empty is not given.
                  schema: {type: string}
              responses:
                "200":
                  description: Every camera (or those `match` and `limit` keep), sorted by make then model (unknown last), and the number of pictures (of all cameras). Cameras are told apart as the make and model filters of GET /images tell them apart (without case), so a count is what that filter lists; an entry shows its pictures' most used spelling.
                  headers:
                    <<: *answerHeaders
                    ETag: {$ref: "#/components/headers/JSONETag"}
                    Cache-Control: {$ref: "#/components/headers/JSONCacheControl"}
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [total, cameras]
                        properties:
                          total: {type: integer, minimum: 0, description: "Pictures the metadata function has read."}
                          cameras:
                            type: array
                            items:
                              type: object
                              required: [make, model, count]
                              properties:
                                make: {type: [string, "null"]}
                                model: {type: [string, "null"]}
                                count: {type: integer, minimum: 1}
                "304": {$ref: "#/components/responses/NotModified"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headListCameras
              summary: As GET /cameras, without a body (the same status and headers).
              parameters:
                - $ref: "#/components/parameters/ifNoneMatch"
              responses:
                "200": {description: "As GET, without a body."}
                "304": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "403": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /auth/me:
            get:
              operationId: getCaller
              summary: "Who the credentials name and every scope they hold: a client offers only what it may do."
              description: |
                Credentials of any scope will do whenever any are configured (none: 401). `subject` is what usage
                plans and a 403 name the caller by: `key:NAME` for an API key (`key:http.api_keys[N]` for one of
                `http.api_keys`), `token:SUB` for a token; null when no credentials are configured (the server then
                listens on loopback only, and anyone may do everything). `scopes` lists every scope held, `admin` spelled
                out as all of them. No key, token or claim is echoed. The other routes still check each request.
              responses:
                "200":
                  description: The caller.
                  headers:
                    <<: *answerHeaders
                    Cache-Control: {schema: {type: string, const: no-store}}
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [subject, scopes]
                        properties:
                          subject: {type: [string, "null"], examples: ["key:gallery", "token:alice"]}
                          scopes:
                            type: array
                            uniqueItems: true
                            items: {type: string, enum: ["images:read", "images:write", "images:delete", "functions:invoke", admin]}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headCaller
              summary: As GET /auth/me, without a body (the same status and headers).
              responses:
                "200": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /events/stream:
            get:
              operationId: eventStream
              summary: "Server-Sent Events: one `picture` event per journaled event once all its work has finished."
              description: |
                A `text/event-stream` read from the journal (any process may have written it): each frame is
                `event: picture`, `id: <position>` and `data:` a JSON object `{event_id, event, key, sha256, source_name,
                outcome, items}` (`outcome` is `succeeded` when every function succeeded, else `failed`; `items` the
                listing items, as GET /images writes them, of every id that names the content when the frame is sent:
                empty when none does any more, so a client updates its view from the frame alone). Events are sent when
                their last invocation finishes, which may be out of journal order; `id` is the position to resume after
                (every event at or below it has been sent), so a client reconnecting with `Last-Event-ID` misses nothing
                and may see an event twice. Without `Last-Event-ID` the stream starts with what is unfinished now.
                A comment line (`: heartbeat`) is sent when nothing else was for a third of the idle timeout; the stream
                ends after 5 minutes or at shutdown, and the `retry: 1000` it starts with makes browsers reconnect. A
                configuration reload that takes its credentials' access away ends it at once after an `event: revoked`
                frame whose `data:` is the error a new request with them gets (`{"error": {"code", "message"}}`).
                When reads need credentials (`http.protect_reads`), a signed URL from POST /events/stream/signed-url
                (`?expires=…&sig=…`) is enough, as for thumbnails: a browser's EventSource cannot send a header.
              parameters: &eventStreamParameters
                - {name: Last-Event-ID, in: header, description: "The last `id` received: resume after it.", schema: {type: string, pattern: "^[0-9]{1,18}$"}}
                - {name: last_event_id, in: query, description: "The same, for clients that cannot set headers (the header wins).", schema: {type: string, pattern: "^[0-9]{1,18}$"}}
                - {name: expires, in: query, description: "Signed URLs only, seconds since 1970 (not an integer: 400).", schema: {type: integer, minimum: 0, maximum: 99999999999}}
                - {name: sig, in: query, description: "Signed URLs only, hex HMAC-SHA256 of \"/events/stream\\n<expires>\".", schema: {type: string}}
              responses:
                "200":
                  description: The stream.
                  headers: *answerHeaders
                  content:
                    text/event-stream: {schema: {type: string}}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
            head:
              operationId: headEventStream
              summary: As GET /events/stream, without a body (the same status and headers).
              parameters: *eventStreamParameters
              responses:
                "200": {description: "As GET, without a body."}
                "400": {description: "As GET, without a body."}
                "401": {description: "As GET, without a body."}
                "403": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "429": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
                "503": {description: "As GET, without a body."}
          /events/stream/signed-url:
            post:
              operationId: signEventStreamURL
              summary: Mint a signed URL of the event stream, for clients that cannot send a header (EventSource).
              description: |
                Needs `images:read` whenever credentials are configured. The URL (`/events/stream?expires=…&sig=…`) is
                signed with `http.signing_key` and opens the stream until it expires, across reconnections and restarts.
              requestBody:
                required: false
                content:
                  application/json:
                    schema:
                      type: object
                      properties:
                        expires_in: {type: integer, minimum: 1, maximum: 86400, description: "Seconds (default 3600 when absent; null is 400)."}
              responses:
                "200":
                  description: The signed URL.
                  headers: *answerHeaders
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [url, expires, expires_at]
                        properties:
                          url: {type: string}
                          expires: {type: integer}
                          expires_at: {type: string}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "409":
                  description: signing_disabled (no http.signing_key).
                  headers: *answerHeaders
                  content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
                "413": {$ref: "#/components/responses/TooLarge"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
                "503": {$ref: "#/components/responses/Unavailable"}
          /:
            get:
              operationId: galleryPage
              summary: The gallery web page (HTML; its scripts and styles come from /gallery/{asset}).
              description: |
                Served with a strict Content-Security-Policy (no inline script or style, nothing from another origin) and
                `Cache-Control: no-cache` with an ETag; it reads the API like any other client. When reads are public it
                carries, as a JSON data block, the first grid page for the filters in its own query (make, model,
                taken_after, taken_before, near, bbox: as GET /images), the cameras and the event stream's position.
              security: [{}]
              parameters: &galleryPageParameters
                - {$ref: "#/components/parameters/ifNoneMatch"}
              responses:
                "200":
                  description: The page.
                  headers:
                    <<: *answerHeaders
                    Content-Security-Policy: {schema: {type: string}}
                    ETag: {schema: {type: string}}
                  content:
                    text/html: {schema: {type: string}}
                "304": {description: "Not modified (If-None-Match named the ETag).", headers: *answerHeaders}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
            head:
              operationId: headGalleryPage
              summary: As GET /, without a body (the same status and headers).
              security: [{}]
              parameters: *galleryPageParameters
              responses:
                "200": {description: "As GET, without a body."}
                "304": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
          /gallery/{asset}:
            get:
              operationId: galleryAsset
              summary: "A script, style sheet or icon of the gallery, by its content-hashed name (e.g. app.3f9c2a1b7e.js)."
              description: The name changes with the content, so the answer is cached for a year as immutable.
              security: [{}]
              parameters: &galleryAssetParameters
                - {name: asset, in: path, required: true, schema: {type: string}}
                - {$ref: "#/components/parameters/ifNoneMatch"}
              responses:
                "200":
                  description: The file.
                  headers:
                    <<: *answerHeaders
                    Cache-Control: {schema: {type: string}, description: "public, max-age=31536000, immutable"}
                    ETag: {schema: {type: string}}
                  content:
                    text/javascript: {schema: {type: string}}
                    text/css: {schema: {type: string}}
                    image/svg+xml: {schema: {type: string}}
                "304": {description: "Not modified (If-None-Match named the ETag).", headers: *answerHeaders}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/NotFound"}
                "405": {$ref: "#/components/responses/MethodNotAllowed"}
                "414": {$ref: "#/components/responses/URITooLong"}
                "431": {$ref: "#/components/responses/HeadersTooLarge"}
            head:
              operationId: headGalleryAsset
              summary: As GET /gallery/{asset}, without a body (the same status and headers).
              security: [{}]
              parameters: *galleryAssetParameters
              responses:
                "200": {description: "As GET, without a body."}
                "304": {description: "As GET, without a body."}
                "400": {description: "As GET, without a body."}
                "404": {description: "As GET, without a body."}
                "405": {description: "As GET, without a body."}
                "414": {description: "As GET, without a body."}
                "431": {description: "As GET, without a body."}
        components:
          securitySchemes:
            bearer: {type: http, scheme: bearer}
          parameters:
            id:
              name: id
              in: path
              required: true
              schema: {type: string, pattern: "^[A-Za-z0-9._-]{1,128}$"}
            ifNoneMatch: {name: If-None-Match, in: header, schema: {type: string}}
            ifNoneMatchWrite: {name: If-None-Match, in: header, description: "`*` (create only: 412 when the id exists) or ETags (412 when one is the current one).", schema: {type: string}}
            ifMatch: {name: If-Match, in: header, description: "`*` (the id exists) or ETags, one of which must be the current one (strong comparison); else 412.", schema: {type: string}}
            ifUnmodifiedSince: {name: If-Unmodified-Since, in: header, description: "An HTTP date; 412 when Last-Modified is later. Ignored beside If-Match.", schema: {type: string}}
            range: {name: Range, in: header, description: "bytes=A-B, bytes=A- or bytes=-N; several, comma-separated, are answered as one multipart/byteranges body (sorted, overlaps merged; more than 16 get the whole file).", schema: {type: string}}
            ifRange: {name: If-Range, in: header, description: "An ETag or the Last-Modified date; when it differs the whole file is sent.", schema: {type: string}}
          headers:
            ETag: {schema: {type: string}, description: "Strong: \"<sha256>\" for originals, \"<sha256>-<size>-<recipe>\" for JPEG and PNG thumbnails, \"<sha256>-<size>-<recipe>.<webp|avif>\" for WebP and AVIF ones."}
            Last-Modified: {schema: {type: string}}
            Cache-Control: {schema: {type: string}}
            Accept-Ranges: {schema: {type: string, const: bytes}}
            Vary: {schema: {type: string, pattern: "^(Accept|Origin)(, ?(Accept|Origin))*$"}, description: "Accept on thumbnails whose format was chosen from Accept (http.negotiate_formats, no ?format=); Origin on every answer when http.cors_origins lists origins (not with *), so a shared cache never hands one origin's answer to another. Both: two Vary fields, or one reading `Accept, Origin`."}
            Content-Range: {schema: {type: string}}
            X-Request-Id: {schema: {type: string, pattern: "^[A-Za-z0-9._:+/=-]{1,128}$"}, description: "The request's id: the one a proxy in front sent in X-Request-Id when it is a plain token, else 16 hex digits; an error body's request_id."}
            JSONETag: {schema: {type: string}, description: "Strong, made from the body's bytes: the same body, the same tag; If-None-Match naming it is a 304."}
            JSONCacheControl: {schema: {type: string, enum: [no-cache, "private, no-cache"]}, description: "Kept, but revalidated before every use (the listing's signed thumbnail URLs expire, and pictures come and go); private when reads need credentials."}
            X-RateLimit-Limit: {schema: {type: integer, minimum: 0}, description: "With a usage plan, of the limit closest to running out: the burst, or the daily quota (a plan without a rate, or once no more of the day's requests are left than tokens in the bucket)."}
            X-RateLimit-Remaining: {schema: {type: integer, minimum: 0}, description: "With a usage plan: the requests left under that limit (in the bucket, or of the day's quota)."}
            X-RateLimit-Reset: {schema: {type: integer, minimum: 0}, description: "With a usage plan: seconds until that limit is whole again (the bucket full, or UTC midnight for the quota)."}
          responses:
            File:
              description: The file, streamed from the store.
              headers:
                <<: *answerHeaders
                ETag: {$ref: "#/components/headers/ETag"}
                Last-Modified: {$ref: "#/components/headers/Last-Modified"}
                Cache-Control: {$ref: "#/components/headers/Cache-Control"}
                Accept-Ranges: {$ref: "#/components/headers/Accept-Ranges"}
              content:
                image/jpeg: {schema: {type: string, format: binary}}
                image/png: {schema: {type: string, format: binary}}
                image/webp: {schema: {type: string, format: binary}}
                image/avif: {schema: {type: string, format: binary}}
                image/gif: {schema: {type: string, format: binary}}
                image/heic: {schema: {type: string, format: binary}}
            PartialFile:
              description: The requested byte range (Content-Range), or several as the parts of a multipart/byteranges body.
              headers:
                <<: *answerHeaders
                Content-Range: {$ref: "#/components/headers/Content-Range"}
                ETag: {$ref: "#/components/headers/ETag"}
              content:
                multipart/byteranges: {schema: {type: string, format: binary}}
                image/jpeg: {schema: {type: string, format: binary}}
                image/png: {schema: {type: string, format: binary}}
                image/webp: {schema: {type: string, format: binary}}
                image/avif: {schema: {type: string, format: binary}}
                image/gif: {schema: {type: string, format: binary}}
                image/heic: {schema: {type: string, format: binary}}
            NotModified:
              description: If-None-Match matched the ETag.
              headers:
                <<: *answerHeaders
                ETag: {$ref: "#/components/headers/ETag"}
                Cache-Control: {$ref: "#/components/headers/Cache-Control"}
            Put:
              description: 201 when the id is new, 200 when it was replaced.
              headers:
                <<: *answerHeaders
                Location: {schema: {type: string}}
                ETag: {$ref: "#/components/headers/ETag"}
              content:
                application/json:
                  schema:
                    type: object
                    required: [id, sha256]
                    properties:
                      id: {type: string}
                      sha256: {type: string}
            BadRequest:
              description: "invalid_id (malformed id, encoded slashes, NUL), invalid_path (a path with a '.' or '..' segment, also written %2e, on any route: picpipe does not resolve dot segments), bad_request (parameter, body), too_many_files (a multipart upload with a second file part), malformed_request (a body cut short or whose chunked framing breaks; the connection closes) or url_refused (an import URL that is not http(s) or whose address is refused)."
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Unauthorized:
              description: "unauthorized (no bearer credential) or invalid_token (an API key that is not configured, or a token that is expired, for another audience or issuer, signed by an unknown key id, badly signed, of an algorithm not accepted); WWW-Authenticate is Bearer realm=\"picpipe\", with error=\"invalid_token\" and error_description for a credential that was sent."
              headers:
                <<: *answerHeaders
                WWW-Authenticate: {schema: {type: string}}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Forbidden:
              description: "insufficient_scope (the caller lacks the scope the message names; WWW-Authenticate has error=\"insufficient_scope\" and scope) or forbidden (a signed URL that is wrong or expired)."
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            TooManyRequests:
              description: "too_many_requests (over the caller's usage plan: its rate and burst, or its daily quota)."
              headers:
                <<: *answerHeaders
                Retry-After: {schema: {type: integer}, description: Seconds until a request would be admitted.}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            NotFound:
              description: not_found (unknown id or path) or unknown_size (a size that is not configured).
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            MethodNotAllowed:
              description: method_not_allowed; the Allow header lists the methods of the path. Every path answers it.
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            TooLarge:
              description: body_too_large (over http.max_body_bytes, or a JSON body over what its route takes, 4 KiB or 16 KiB for an import) or import_too_large (over import.max_bytes); nothing is kept.
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            UnsupportedMediaType:
              description: unsupported_media_type (a Content-Type other than image/jpeg, image/png, image/webp, image/gif, image/heic, image/heif, image/avif, multipart/form-data, or bytes that are none of JPEG, PNG, WebP, GIF, HEIC, AVIF, or a picture in a variant picpipe does not decode such as a 12-bit or lossless JPEG, or a body sent with a Content-Encoding other than identity, named in the message, the answer carrying Accept-Encoding identity; for an import, a body the source sent in a content coding such as gzip).
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Unprocessable:
              description: "unprocessable_image (corrupt, truncated, or over the pixel limit; a function that ran past its timeout is 503 function_timeout, never this), or, for an import, import_failed (the source could not be fetched, answered an error, or redirected too often) or import_timeout (longer than import.timeout); nothing is kept."
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            UploadTooSlow:
              description: upload_too_slow (the body arrived slower than http.min_upload_rate; nothing is kept, the connection closes).
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Unavailable:
              description: "store_read_only (the store cannot be written), too_many_uploads (http.max_concurrent_uploads; Retry-After), unavailable (the journal cannot take the event), issuer_unavailable (a bearer token cannot be checked: the OIDC issuer's keys could not be fetched yet; Retry-After), or function_timeout (a thumbnail or metadata made on request: the function ran past functions.NAME.timeout; the picture is not at fault, ask again after Retry-After; Cache-Control: no-store). Nothing is kept."
              headers:
                <<: *answerHeaders
                Retry-After: {schema: {type: integer}, description: "Seconds after which the request may pass (too_many_uploads, issuer_unavailable, function_timeout)."}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            URITooLong:
              description: uri_too_long (the request target, path and query, is over http.max_uri_bytes; the connection closes).
              headers:
                X-Request-Id: {$ref: "#/components/headers/X-Request-Id"}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            HeadersTooLarge:
              description: header_fields_too_large (the headers are over http.max_header_bytes; the connection closes).
              headers:
                X-Request-Id: {$ref: "#/components/headers/X-Request-Id"}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            NotImplemented:
              description: not_implemented (the body is sent in a Transfer-Encoding other than chunked, such as gzip, chunked; nothing is kept and the connection closes).
              headers:
                X-Request-Id: {$ref: "#/components/headers/X-Request-Id"}
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            StoreFull:
              description: insufficient_storage (the store's disk is full; nothing is kept).
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            PreconditionFailed:
              description: "precondition_failed: If-Match, If-Unmodified-Since or (PUT, DELETE) If-None-Match does not hold; the message names which. Nothing was done."
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            RangeNotSatisfiable:
              description: range_not_satisfiable; Content-Range is bytes */SIZE.
              headers: *answerHeaders
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
          schemas:
            Health:
              type: object
              required: [status, store, journal, queued]
              properties:
                status: {type: string, enum: [ok, degraded]}
                store:
                  type: object
                  required: [condition]
                  properties:
                    condition: {type: string, enum: [ok, full, read_only]}
                    path: {type: string}
                    since: {type: string}
                journal:
                  type: object
                  required: [readable]
                  properties:
                    readable: {type: boolean}
                    error: {type: string}
                    database: {type: string, description: "sqlite, or postgresql and its URL (password redacted)"}
                queued: {type: object, additionalProperties: {type: integer}}
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code: {type: string}
                    message: {type: string}
                    request_id: {type: string, description: "The answer's X-Request-Id."}
            ImageList:
              type: object
              required: [items, next_cursor]
              properties:
                items: {type: array, items: {$ref: "#/components/schemas/ImageItem"}}
                next_cursor: {type: [string, "null"]}
            ImageItem:
              type: object
              required: [id, sha256, name, size, format, width, height, orientation, taken_at, added_at, urls]
              properties:
                id: {type: string}
                sha256: {type: string}
                name: {type: [string, "null"]}
                size: {type: [integer, "null"]}
                format: {type: [string, "null"], enum: [jpeg, png, webp, gif, heic, avif, null]}
                width: {type: [integer, "null"], description: "As stored, before any turn (see orientation)."}
                height: {type: [integer, "null"]}
                orientation: {type: [integer, "null"], description: "The EXIF orientation as exiftool -n and /metadata give it (for a HEIC or AVIF turned by its irot/imir, the EXIF value of that turn); 5 to 8 turn the picture a quarter, so it shows as height by width; a value EXIF leaves undefined (0, 9) turns nothing. Null when absent."}
                taken_at: {type: [string, "null"], description: "EXIF DateTimeOriginal, the camera's local wall time (YYYY-MM-DDTHH:MM:SS); null without an EXIF date."}
                added_at: {type: [string, "null"], description: "When the picture entered the store, the server's local wall time in taken_at's shape (kept when the picture is processed again); a picture without taken_at is listed by it. Null only for a picture stored before added_at existed whose original could not be read then."}
                urls:
                  type: object
                  properties:
                    original: {type: string}
                    metadata: {type: string}
                    thumbnails: {type: object, description: "Size label to URL (signed when http.signing_key is set).", additionalProperties: {type: string}}
            Metadata:
              type: object
              properties:
                id: {type: string}
                file: {type: string}
                make: {type: [string, "null"]}
                model: {type: [string, "null"]}
                taken_at: {type: [string, "null"]}
                added_at: {type: [string, "null"], description: "As in ImageItem."}
                gps_latitude: {type: [number, "null"]}
                gps_longitude: {type: [number, "null"]}
                width: {type: [integer, "null"]}
                height: {type: [integer, "null"]}
                format: {type: [string, "null"]}
                bytes: {type: [integer, "null"]}
                sha256: {type: [string, "null"]}
              additionalProperties: true
        """#
}
