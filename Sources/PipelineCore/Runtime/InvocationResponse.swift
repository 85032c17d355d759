// What an invocation returns to its caller, in the shape of Lambda's Invoke response.

/// The answer to `FunctionRuntime.invoke`: Lambda's `StatusCode`, `FunctionError` and `Payload`.
public struct InvocationResponse: Codable, Sendable, Equatable {
    /// 200 for RequestResponse, 202 for Event (queued), 204 for DryRun.
    public var statusCode: Int
    /// `Unhandled` when the function failed (the payload then holds the error); nil on success.
    public var functionError: String?
    /// The function's result, or `{"errorType", "errorMessage"}` when it failed.
    public var payload: JSONValue?
    /// The journaled event's id (none for DryRun).
    public var eventID: Int64?
    /// The journaled invocation's id (none for DryRun).
    public var invocationID: Int64?
    /// What the function logged during a synchronous invocation, when the caller asked (`InvocationOptions.log`):
    /// not part of the JSON form.
    public var log: String? = nil

    /// - Parameters: see the properties.
    public init(
        statusCode: Int, functionError: String? = nil, payload: JSONValue? = nil, eventID: Int64? = nil,
        invocationID: Int64? = nil
    ) {
        self.statusCode = statusCode
        self.functionError = functionError
        self.payload = payload
        self.eventID = eventID
        self.invocationID = invocationID
    }

    /// Whether the invocation failed.
    public var failed: Bool { functionError != nil }

    enum CodingKeys: String, CodingKey {
        case statusCode = "StatusCode"
        case functionError = "FunctionError"
        case payload = "Payload"
        case eventID = "EventId"
        case invocationID = "InvocationId"
    }
}

/// How a caller wants an invocation run.
public struct InvocationOptions: Sendable {
    /// Refuse a RequestResponse call (`RuntimeError.throttled`) when the function's reserved concurrency is taken
    /// by running invocations (its workers' and other synchronous calls'), as Lambda's Invoke does; otherwise the
    /// call runs anyway and counts (the CLI, the HTTP API, the delete clean-up).
    public var refuseWhenBusy: Bool
    /// Keeps the lines the function logs during a RequestResponse call (`InvocationResponse.log`).
    public var log: InvocationLog?
    /// The name a RequestResponse call's event is journaled under when the call is no event of the store (a read:
    /// `EventName.thumbnailRequested`); the function still gets the record as given. `nil`: the record's own name.
    public var journaledAs: EventName?

    /// - Parameters: see the properties.
    public init(refuseWhenBusy: Bool = false, log: InvocationLog? = nil, journaledAs: EventName? = nil) {
        self.refuseWhenBusy = refuseWhenBusy
        self.log = log
        self.journaledAs = journaledAs
    }
}
