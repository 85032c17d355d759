// The Lambda API over the runtime (JSON as Lambda writes it): Invoke, ListFunctions, GetFunction,
// ListVersionsByFunction, ListAliases, GetAlias, Get/UpdateFunctionConfiguration,
// Get/Put/Update/DeleteFunctionEventInvokeConfig, GetFunctionConcurrency, GetAccountSettings. Invoke takes the same
// path as `picpipe invoke` and the HTTP API: FunctionRuntime.invoke with RequestResponse, Event or DryRun.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PipelineCore
import Synchronization

/// Answers Lambda API requests.
struct LambdaAPI: Sendable {
    let runtime: FunctionRuntime
    let overrides: FunctionOverrides
    let region: String
    let logger: Logger
    /// The account id in ARNs (picpipe has one account: the store).
    static let account = "000000000000"
    /// Lambda's payload limit for RequestResponse (6 MB).
    static let maxPayload = EventPayload.maxBytes

    /// Whether a path belongs to the Lambda API.
    static func handles(_ path: String) -> Bool {
        apiVersions.contains { path.hasPrefix("/\($0)/") }
    }

    /// The Lambda API versions whose paths picpipe answers or names (`/2019-09-30/…/concurrency` is
    /// GetFunctionConcurrency, `/2017-10-31/…/concurrency` its Put and Delete; until session 29 an unsigned
    /// request to those two was taken for S3 and refused in S3's words).
    static let apiVersions = ["2015-03-31", "2019-09-25", "2017-03-31", "2016-08-19", "2019-09-30", "2017-10-31"]

    func arn(_ function: String) -> String { "arn:aws:lambda:\(region):\(Self.account):function:\(function)" }

    /// Dispatches an authenticated Lambda request (its body already read and checked).
    func respond(
        to request: Request, path: String, query: [String: String], body: Data, auth: Authenticated, requestID: String
    ) async throws -> Response {
        let parts = path.split(separator: "/").map { SignatureV4.percentDecode($0) }
        if parts == ["2016-08-19", "account-settings"], request.method == .get {
            return accountSettings(requestID: requestID)
        }
        // Any other operation outside /functions is one picpipe lacks: 501 as the others (it was 404 until session 28).
        guard parts.count >= 2, parts[1] == "functions" else { throw Self.unknown(request, path) }
        let method = request.method
        if parts.count == 2 {
            guard method == .get, parts[0] == "2015-03-31" else { throw Self.unknown(request, path) }
            return try listFunctions(auth: auth, query: query, requestID: requestID)
        }
        // A qualifier after the name and another in `Qualifier` (`metadata:$LATEST` with `prod`) is Lambda's 400; until
        // session 34 the `Qualifier` won and the answer was a 404 for a function nobody had named.
        let derived = Self.qualifier(in: parts[2])
        if let derived, let given = query["Qualifier"], derived != given {
            throw AWSError.invalidParameter(
                "The derived qualifier from the function name does not match the specified qualifier.")
        }
        let name = try function(parts[2], auth: auth)
        // A version or alias, in the query or after the name (`thumbnail:1`, `…:function:thumbnail:prod`): picpipe's
        // functions have only $LATEST.
        for qualifier in [query["Qualifier"], derived].compactMap({ $0 }) where qualifier != "$LATEST" {
            throw AWSError.functionNotFound(name, arn: arn(name) + ":" + qualifier)
        }
        if method != .get && auth.credential.readOnly {
            throw AWSError(
                "AccessDeniedException", status: 403,
                "User \(auth.credential.accessKeyID) is not authorized to perform \(method.rawValue) \(path): the key is read-only (aws.credentials read_only); it may list functions and read their configuration."
            )
        }
        let tail = Array(parts.dropFirst(3))
        switch (parts[0], method, tail) {
        case ("2015-03-31", .post, ["invocations"]):
            return try await invoke(request, function: name, body: body, requestID: requestID)
        case ("2015-03-31", .get, []):
            return AWSResponses.json(
                [
                    "Configuration": configuration(name),
                    "Code": ["RepositoryType": "picpipe", "Location": ""],
                ], requestID: requestID)
        case ("2015-03-31", .get, ["configuration"]):
            return AWSResponses.json(configuration(name), requestID: requestID)
        case ("2015-03-31", .get, ["versions"]):
            // ListVersionsByFunction: a function's one version, $LATEST (deploy tools list it before they look on).
            return AWSResponses.json(["Versions": [configuration(name)]], requestID: requestID)
        case ("2015-03-31", .get, ["aliases"]):
            // ListAliases: none.
            return AWSResponses.json(["Aliases": [[String: Any]]()], requestID: requestID)
        case ("2015-03-31", .get, let alias) where alias.count == 2 && alias[0] == "aliases":
            throw AWSError(
                "ResourceNotFoundException", status: 404,
                "Alias not found: \(arn(name)):\(alias[1]) (picpipe's functions have $LATEST only, no alias).")
        case ("2015-03-31", .put, ["configuration"]):
            return try updateConfiguration(name, body: body, requestID: requestID)
        case ("2019-09-25", .get, ["event-invoke-config"]):
            guard overrides.override(for: name)?.hasEventInvokeConfig == true else {
                throw noEventInvokeConfig(name)
            }
            return AWSResponses.json(eventInvokeConfig(name), requestID: requestID)
        case ("2019-09-25", .delete, ["event-invoke-config"]):
            return try deleteEventInvokeConfig(name, requestID: requestID)
        case ("2019-09-25", .put, ["event-invoke-config"]):
            return try putEventInvokeConfig(name, body: body, replacing: true, requestID: requestID)
        case ("2019-09-25", .post, ["event-invoke-config"]):
            return try putEventInvokeConfig(name, body: body, replacing: false, requestID: requestID)
        case ("2019-09-30", .get, ["concurrency"]):
            // GetFunctionConcurrency: `functions.NAME.reserved_concurrency` (across processes), else the function's
            // `concurrency`: the limit past which a synchronous call is refused with 429 here.
            let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
            return AWSResponses.json(
                ["ReservedConcurrentExecutions": configuration.reservedConcurrency ?? configuration.concurrency],
                requestID: requestID)
        case ("2017-10-31", .put, ["concurrency"]), ("2017-10-31", .delete, ["concurrency"]):
            throw AWSError(
                "UnknownOperationException", status: 501,
                "picpipe sets a function's reserved concurrency in its configuration (functions.\(name).reserved_concurrency, read at start: it sizes the worker pools), not through the Lambda API."
            )
        default:
            throw Self.unknown(request, path)
        }
    }

    static func unknown(_ request: Request, _ path: String) -> AWSError {
        AWSError(
            "UnknownOperationException", status: 501,
            "picpipe's Lambda API does not implement \(request.method.rawValue) \(path) (it has Invoke, ListFunctions, GetFunction, ListVersionsByFunction, ListAliases, GetAlias, Get/UpdateFunctionConfiguration, Get/Put/Update/DeleteFunctionEventInvokeConfig, GetFunctionConcurrency, GetAccountSettings)."
        )
    }

    /// The qualifier (version or alias) a function name or ARN ends with, if any: `thumbnail:1`,
    /// `ACCOUNT:function:thumbnail:1`, `arn:aws:lambda:REGION:ACCOUNT:function:thumbnail:prod`.
    static func qualifier(in text: String) -> String? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        let index = text.hasPrefix("arn:") ? 7 : (fields.count >= 3 && fields[1] == "function" ? 3 : 1)
        return fields.count > index ? String(fields[index]) : nil
    }

    /// The function a name, partial ARN (`ACCOUNT:function:NAME`) or ARN names, if it exists here and the key may
    /// use it: an ARN of another region or account names a function picpipe does not have.
    func function(_ text: String, auth: Authenticated) throws -> String {
        var name = text
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        if text.hasPrefix("arn:") {
            guard fields.count >= 7, fields.count <= 8, fields[5] == "function" else {
                throw AWSError.invalidParameter("'\(text)' is not a function name or function ARN.")
            }
            name = String(fields[6])
            if fields[3] != region {
                throw AWSError.invalidParameter(
                    "Functions from '\(fields[3])' are not reachable in this region ('\(region)')")
            }
            if fields[4] != Self.account { throw AWSError.functionNotFound(name, arn: text) }
        } else if fields.count >= 3, fields[1] == "function" {
            name = String(fields[2])
            if fields[0] != Self.account { throw AWSError.functionNotFound(name, arn: text) }
        } else if let colon = name.firstIndex(of: ":") {
            name = String(name[..<colon])
        }
        guard runtime.functionNames.contains(name) else { throw AWSError.functionNotFound(name, arn: arn(name)) }
        guard auth.credential.allows(function: name) else {
            throw AWSError(
                "AccessDeniedException", status: 403,
                "User \(auth.credential.accessKeyID) is not authorized to use the function \(name) (aws.credentials functions)."
            )
        }
        return name
    }

    // MARK: Invoke

    func invoke(_ request: Request, function name: String, body: Data, requestID: String) async throws -> Response {
        let typeText = request.headers[AWSResponses.name("x-amz-invocation-type")] ?? "RequestResponse"
        guard let type = InvocationType(rawValue: typeText) else {
            throw AWSError.validation(
                typeText, member: "invocationType",
                constraint: "satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        // LogType is Lambda's enum and ClientContext base64 of a JSON object, at most 3,583 bytes: until session 34
        // anything was taken, so `--log-type tail` silently gave no tail.
        let logType = request.headers[AWSResponses.name("x-amz-log-type")]
        if let logType, logType != "None" && logType != "Tail" {
            throw AWSError.validation(logType, member: "logType", constraint: "satisfy enum value set: [None, Tail]")
        }
        let tail = logType == "Tail"
        if let context = request.headers[AWSResponses.name("x-amz-client-context")], !context.isEmpty {
            try Self.checkClientContext(context)
        }
        let limit = EventPayload.maxBytes(for: type)
        guard body.count <= limit else {
            throw AWSError(
                "RequestEntityTooLargeException", status: 413,
                "Request must be smaller than \(limit) bytes for the InvokeFunction operation")
        }
        let records: [S3EventRecord]
        if body.isEmpty || body.allSatisfy({ [0x20, 0x0a, 0x0d, 0x09].contains($0) }) {
            if type == .dryRun {
                return AWSResponses.empty(.noContent, headers: AWSResponses.fields([("x-amzn-RequestId", requestID)]))
            }
            throw AWSError.invalidRequestContent(
                "The payload is empty; \(name) takes an S3 event ({\"Records\": [...]}) or one record.")
        }
        guard (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) != nil else {
            throw AWSError.invalidRequestContent("Could not parse request body into json: the payload is not JSON.")
        }
        do {
            records = try EventPayload.records(from: body)
        } catch {
            throw AWSError.invalidRequestContent("Could not parse the payload as an S3 event: \(error)")
        }
        if type == .requestResponse, records.count != 1 {
            throw AWSError.invalidRequestContent(
                "A RequestResponse invocation takes one record (this payload has \(records.count)); use Event to queue several."
            )
        }
        let executed = [("X-Amz-Executed-Version", "$LATEST"), ("x-amzn-RequestId", requestID)]
        switch type {
        case .event, .dryRun:
            do {
                if type == .event {
                    _ = try runtime.queueEvents(function: name, records: records)
                } else {
                    for record in records { _ = try await runtime.invoke(function: name, record: record, type: type) }
                }
            } catch let error as FunctionError {
                throw AWSError.invalidRequestContent("\(error)")
            } catch let error as RuntimeError {
                throw AWSError.invalidRequestContent("\(error)")
            } catch {
                throw AWSError.serviceUnavailable(.lambda, "the invocation could not be journaled: \(error)")
            }
            return AWSResponses.empty(type == .event ? .accepted : .noContent, headers: AWSResponses.fields(executed))
        case .requestResponse:
            let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
            let clock = ContinuousClock()
            let start = clock.now
            let response: InvocationResponse
            // The function's own lines of this invocation, kept only when the caller asked for the tail.
            let capture = tail ? InvocationLog(requestID: requestID) : nil
            do {
                // Refused past the reserved concurrency, whoever holds it: queue workers or other calls.
                response = try await runtime.invoke(
                    function: name, record: records[0], type: .requestResponse,
                    options: InvocationOptions(refuseWhenBusy: true, log: capture))
            } catch RuntimeError.throttled(_, let concurrency) {
                throw AWSError.tooManyRequests(name, concurrency: concurrency)
            } catch let error as FunctionError {
                throw AWSError.invalidRequestContent("\(error)")
            } catch let error as RuntimeError {
                throw AWSError.invalidRequestContent("\(error)")
            } catch {
                throw AWSError.serviceUnavailable(.lambda, "the invocation could not be journaled: \(error)")
            }
            let elapsed = start.duration(to: clock.now)
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var headers = executed
            if let functionError = response.functionError { headers.append(("X-Amz-Function-Error", functionError)) }
            if tail {
                let log = Self.logTail(
                    requestID: requestID, functionLines: response.log ?? "", milliseconds: milliseconds,
                    memoryMB: configuration.memoryMB, error: response.functionError == nil ? nil : response.payload)
                headers.append(("X-Amz-Log-Result", Data(log.utf8).base64EncodedString()))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let payload = (try? encoder.encode(response.payload ?? .object([:]))) ?? Data("{}".utf8)
            return AWSResponses.body(
                payload, contentType: "application/json", status: .ok, headers: AWSResponses.fields(headers))
        }
    }

    /// Lambda's limit on `X-Amz-Client-Context`: 3,583 bytes of base64.
    static let maxClientContext = 3583

    /// Refuses a client context Lambda refuses: not base64 of a JSON object ("Client context must be a valid
    /// Base64-encoded JSON object.", Lambda's words), or over `maxClientContext` bytes.
    static func checkClientContext(_ text: String) throws {
        let size = text.utf8.count
        guard size <= maxClientContext else {
            throw AWSError.invalidRequestContent(
                "Client context must be at most \(maxClientContext) bytes of base64-encoded JSON; this one has \(size)."
            )
        }
        guard let data = Data(base64Encoded: text),
            (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
        else {
            throw AWSError.invalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
        }
    }

    /// The invocation's log as Lambda writes it: START, the function's own lines (what it logged, at info and
    /// above), the error if any, END, REPORT; its last 4 KB.
    static func logTail(
        requestID id: String, functionLines: String, milliseconds: Double, memoryMB: Int, error: JSONValue?
    ) -> String {
        var lines = ["START RequestId: \(id) Version: $LATEST"]
        let own = functionLines.hasSuffix("\n") ? String(functionLines.dropLast()) : functionLines
        if !own.isEmpty { lines.append(own) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let error, let data = try? encoder.encode(error) {
            lines.append(
                "\(InvocationLog.timestamp(Date()))\t\(id)\tERROR\tInvoke Error \(String(decoding: data, as: UTF8.self))"
            )
        }
        lines.append("END RequestId: \(id)")
        let duration = (milliseconds * 100).rounded() / 100
        lines.append(
            "REPORT RequestId: \(id)\tDuration: \(duration) ms\tBilled Duration: \(Int(milliseconds.rounded(.up))) ms\tMemory Size: \(memoryMB) MB"
        )
        let text = lines.joined(separator: "\n") + "\n"
        return String(decoding: text.utf8.suffix(4096), as: UTF8.self)
    }

    // MARK: Configuration

    /// GetAccountSettings, which deploy tools call before they deploy: the account is this installation. Its
    /// concurrency is what its functions may run at once (each one's `reserved_concurrency`, else `concurrency`);
    /// the unreserved part is that of the functions without a `reserved_concurrency`. The code sizes are Lambda's
    /// default quotas (picpipe's functions are built in: their code size is 0).
    func accountSettings(requestID: String) -> Response {
        var concurrency = 0
        var unreserved = 0
        for name in runtime.functionNames {
            let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
            concurrency += configuration.reservedConcurrency ?? configuration.concurrency
            if configuration.reservedConcurrency == nil { unreserved += configuration.concurrency }
        }
        return AWSResponses.json(
            [
                "AccountLimit": [
                    "TotalCodeSize": 80_530_636_800,
                    "CodeSizeUnzipped": 262_144_000,
                    "CodeSizeZipped": 52_428_800,
                    "ConcurrentExecutions": concurrency,
                    "UnreservedConcurrentExecutions": unreserved,
                ],
                "AccountUsage": ["TotalCodeSize": 0, "FunctionCount": runtime.functionNames.count],
            ], requestID: requestID)
    }

    func configuration(_ name: String) -> [String: Any] {
        let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
        // Until session 35 a function never updated through the API answered 1970-01-01.
        let modified = overrides.lastModified(of: name)
        return [
            "FunctionName": name,
            "FunctionArn": arn(name),
            "Runtime": "provided.picpipe",
            "Role": role(name),
            "Handler": name,
            "CodeSize": 0,
            "CodeSha256": "",
            "Description": "picpipe's \(name) function",
            "Timeout": Int(configuration.timeout.rounded(.up)),
            "MemorySize": configuration.memoryMB,
            "LastModified": Self.lambdaTimestamp(modified),
            "Version": "$LATEST",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        ]
    }

    /// The role as an IAM ARN naming its store areas: `role/picpipe-thumbnail-read-originals-write-thumbnails`.
    func role(_ name: String) -> String {
        let role = runtime.role(of: name) ?? FunctionRole()
        var parts = ["picpipe", name]
        let read = role.read.subtracting(role.write).map(\.rawValue).sorted()
        if !read.isEmpty { parts += ["read"] + read }
        let write = role.write.map(\.rawValue).sorted()
        if !write.isEmpty { parts += ["write"] + write }
        return "arn:aws:iam::\(Self.account):role/" + parts.joined(separator: "-")
    }

    static func lambdaTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "+0000")
    }

    /// ListFunctions, a page at a time as Lambda pages: `MaxItems` (1-10000, default 50) and the opaque
    /// `Marker` a previous page's `NextMarker` gave (here: the next function's name, base64).
    func listFunctions(auth: Authenticated, query: [String: String], requestID: String) throws -> Response {
        let names = runtime.functionNames.filter { auth.credential.allows(function: $0) }
        let pageSize =
            try query["MaxItems"].map { text -> Int in
                guard let value = Int(text), (1...10_000).contains(value) else {
                    throw AWSError.validation(text, member: "maxItems", range: 1...10_000)
                }
                return value
            } ?? 50
        var start = 0
        if let marker = query["Marker"] {
            guard let data = Data(base64Encoded: marker),
                let next = names.firstIndex(of: String(decoding: data, as: UTF8.self))
            else {
                throw AWSError.invalidParameter("Invalid marker: \(marker) (give the NextMarker of a previous page).")
            }
            start = next
        }
        let page = names[start..<min(names.count, start + pageSize)]
        var answer: [String: Any] = ["Functions": page.map(configuration)]
        if page.endIndex < names.count { answer["NextMarker"] = Data(names[page.endIndex].utf8).base64EncodedString() }
        return AWSResponses.json(answer, requestID: requestID)
    }

    func updateConfiguration(_ name: String, body: Data, requestID: String) throws -> Response {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw AWSError.invalidRequestContent("Could not parse request body into json.")
        }
        let supported: Set<String> = ["MemorySize", "Timeout", "FunctionName"]
        if let other = object.keys.sorted().first(where: { !supported.contains($0) }) {
            throw AWSError.invalidParameter(
                "picpipe functions take MemorySize and Timeout only; \(other) cannot be changed.")
        }
        let memory = try Self.integer(object["MemorySize"], "MemorySize", range: 128...10240)
        let timeout = try Self.integer(object["Timeout"], "Timeout", range: 1...900)
        do {
            _ = try overrides.change(name, runtime: runtime) { entry in
                if let memory { entry.memoryMB = memory }
                if let timeout { entry.timeout = Double(timeout) }
            }
        } catch {
            throw AWSError.serviceUnavailable(.lambda, "the configuration could not be saved: \(error)")
        }
        logger.notice(
            "function configuration changed through the Lambda API",
            metadata: [
                "function": "\(name)", "memory_mb": "\(memory.map(String.init) ?? "-")",
                "timeout": "\(timeout.map(String.init) ?? "-")",
            ])
        return AWSResponses.json(configuration(name), requestID: requestID)
    }

    func eventInvokeConfig(_ name: String) -> [String: Any] {
        let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
        let entry = overrides.override(for: name)
        let modified = entry?.eventInvokeConfigModified ?? overrides.lastModified(of: name)
        return [
            "FunctionArn": arn(name) + ":$LATEST",
            "MaximumRetryAttempts": configuration.maxRetries,
            "MaximumEventAgeInSeconds": Int(configuration.maxEventAge.rounded()),
            "LastModified": modified.timeIntervalSince1970,
            "DestinationConfig": [
                "OnFailure": configuration.onFailure == "failed" ? ["Destination": "picpipe:failed"] : [:],
                "OnSuccess": [:],
            ],
        ]
    }

    /// PutFunctionEventInvokeConfig (`replacing`: a setting not given goes back to Lambda's default, 2 retries and
    /// 6 hours) or UpdateFunctionEventInvokeConfig (the settings given change, the others stay).
    func putEventInvokeConfig(_ name: String, body: Data, replacing: Bool, requestID: String) throws -> Response {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw AWSError.invalidRequestContent("Could not parse request body into json.")
        }
        if object["DestinationConfig"] != nil {
            throw AWSError.invalidParameter(
                "picpipe's failure destination is functions.\(name).on_failure (failed/ or none); DestinationConfig cannot be set here."
            )
        }
        let retries = try Self.integer(object["MaximumRetryAttempts"], "MaximumRetryAttempts", range: 0...2)
        let age = try Self.integer(object["MaximumEventAgeInSeconds"], "MaximumEventAgeInSeconds", range: 60...21600)
        do {
            _ = try overrides.change(name, runtime: runtime) { entry in
                if let retries { entry.maxRetries = retries } else if replacing { entry.maxRetries = 2 }
                if let age { entry.maxEventAge = Double(age) } else if replacing { entry.maxEventAge = 21600 }
                entry.eventInvokeConfigModified = Date()
            }
        } catch {
            throw AWSError.serviceUnavailable(.lambda, "the configuration could not be saved: \(error)")
        }
        return AWSResponses.json(eventInvokeConfig(name), requestID: requestID)
    }

    /// DeleteFunctionEventInvokeConfig: the retries and event age the Lambda API set go, and the configuration's
    /// (`functions.NAME.max_retries`, `max_event_age`) apply again, now and after a restart or reload.
    func deleteEventInvokeConfig(_ name: String, requestID: String) throws -> Response {
        let removed: Bool
        do {
            removed = try overrides.removeEventInvokeConfig(name, runtime: runtime)
        } catch {
            throw AWSError.serviceUnavailable(.lambda, "the configuration could not be saved: \(error)")
        }
        guard removed else { throw noEventInvokeConfig(name) }
        let configuration = runtime.configuration(of: name) ?? FunctionConfiguration()
        logger.notice(
            "function event invoke config deleted through the Lambda API; the configuration's settings apply",
            metadata: [
                "function": "\(name)", "max_retries": "\(configuration.maxRetries)",
                "max_event_age": "\(configuration.maxEventAge)",
            ])
        return AWSResponses.empty(.noContent, headers: AWSResponses.fields([("x-amzn-RequestId", requestID)]))
    }

    /// What Lambda answers for the event invoke config of a function that has none.
    func noEventInvokeConfig(_ name: String) -> AWSError {
        AWSError(
            "ResourceNotFoundException", status: 404,
            "The function \(arn(name)) doesn't have an EventInvokeConfig (its retries and event age are the configuration's, functions.\(name).max_retries and max_event_age).",
            resource: name)
    }

    static func integer(_ value: Any?, _ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let value else { return nil }
        guard let number = value as? NSNumber, let integer = Int(exactly: number.doubleValue), range.contains(integer)
        else {
            throw AWSError.validation("\(value)", member: name, range: range)
        }
        return integer
    }
}
