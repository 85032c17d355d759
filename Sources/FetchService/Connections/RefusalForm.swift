// How a listener words the refusals its connection makes ahead of the router (`RequestLimitHandler`: 400, 408, 414,
// 431, 501, 503, 505): as its router's errors are worded, so a client reads them as it reads the others. The HTTP API's are
// its JSON error with `X-Request-Id`; the AWS listener's are S3's XML error with `x-amz-request-id` (`AWSGateway`).
import HTTPTypes

/// The form of the refusals made ahead of a listener's router.
package struct RefusalForm: Sendable {
    /// The field of the new request id each refusal carries (`nil`: none).
    package var requestIDField: HTTPField.Name?
    /// The body of a refusal, for the error and its request id: its Content-Type and its text.
    package var body: @Sendable (_ error: APIError, _ requestID: String?) -> (contentType: String, text: String)

    /// - Parameters: see the properties.
    package init(
        requestIDField: HTTPField.Name?,
        body: @escaping @Sendable (_ error: APIError, _ requestID: String?) -> (contentType: String, text: String)
    ) {
        self.requestIDField = requestIDField
        self.body = body
    }

    /// The HTTP API's: `{"error":{"code":…,"message":…,"request_id":…}}`, the id in `requestIDField`.
    package static func json(requestIDField: HTTPField.Name?) -> RefusalForm {
        RefusalForm(requestIDField: requestIDField) { error, requestID in
            ("application/json", error.jsonBody(requestID: requestID))
        }
    }
}
