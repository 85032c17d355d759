// The AWS listener's refusals ahead of its router (the request limits' 400, 408, 414, 431, 501, 503, 505) in S3's
// form, as its router answers: `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>` with
// `x-amz-request-id`. Until session 33 they were the HTTP API's JSON without any request id, which an SDK could not
// read as an S3 error. The head is not read yet (or was refused), so the request's API is not known: S3's, the
// listener's main one, is used for Lambda paths too.
import FetchService
import Foundation

extension RefusalForm {
    /// S3's XML error, its id in `x-amz-request-id`; the HTTP status and the message stay the refusal's own.
    static let s3 = RefusalForm(requestIDField: AWSResponses.name("x-amz-request-id")) { error, requestID in
        let document = S3ErrorDocument(
            code: s3Code(for: error), message: error.message, resource: nil, requestID: requestID ?? "")
        let data = (try? S3XML.encode(document, root: "Error", namespace: false)) ?? Data()
        return ("application/xml", String(decoding: data, as: UTF8.self))
    }

    /// The S3 error code S3 gives the same condition (its own status aside: S3 answers most of them 400).
    static func s3Code(for error: APIError) -> String {
        switch error.status.code {
        case 408: "RequestTimeout"
        case 414: "InvalidURI"
        case 431: "RequestHeaderSectionTooLarge"
        case 501, 505: "NotImplemented"
        case 503: "SlowDown"
        case 500...: "ServiceUnavailable"
        default: "BadRequest"
        }
    }
}
