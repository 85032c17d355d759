// Building responses: S3's XML documents and errors, Lambda's JSON and errors, and the headers both add.
import FetchService
import Foundation
import HTTPTypes
import Hummingbird

/// Response helpers shared by the S3 and Lambda handlers.
enum AWSResponses {
    /// A header field from a name (names here are constants, so the fallback never applies).
    static func name(_ text: String) -> HTTPField.Name { HTTPField.Name(text) ?? .init("x-invalid")! }

    /// Headers from (name, value) pairs.
    static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (key, value) in pairs { fields.append(HTTPField(name: name(key), value: value)) }
        return fields
    }

    /// A new request id (16 hex digits, leading zeros kept as S3's: until session 31 one in 16 was shorter), sent
    /// as `x-amz-request-id`: the HTTP API's `RequestID`, one maker for both front doors.
    static func requestID() -> String { RequestID().text }

    /// A body of bytes with Content-Type and Content-Length.
    static func body(
        _ data: Data, contentType: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        fields[.contentLength] = String(data.count)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An S3 XML document.
    static func xml<T: Encodable>(
        _ value: T, root: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        body(try S3XML.encode(value, root: root), contentType: "application/xml", status: status, headers: headers)
    }

    /// No body.
    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if fields[.contentLength] == nil { fields[.contentLength] = "0" }
        return Response(status: status, headers: fields)
    }

    /// An error in S3's form: `<Error>` XML (no body for HEAD, as S3 does).
    static func s3Error(_ error: AWSError, requestID: String, head: Bool) -> Response {
        let status = HTTPResponse.Status(code: error.status)
        let headers = fields([("x-amz-request-id", requestID)])
        if head { return empty(status, headers: headers) }
        let document = S3ErrorDocument(
            code: error.code, message: error.message, resource: error.resource, requestID: requestID,
            details: error.details)
        guard let data = try? S3XML.encode(document, root: "Error", namespace: false) else {
            return empty(status, headers: headers)
        }
        return body(data, contentType: "application/xml", status: status, headers: headers)
    }

    /// An error in Lambda's form: `x-amzn-ErrorType` and `{"Type","Message"}`.
    static func lambdaError(_ error: AWSError, requestID: String) -> Response {
        let type = error.status >= 500 ? "Service" : "User"
        var object = ["Type": type, "Message": error.message, "message": error.message]
        if let reason = error.reason { object["Reason"] = reason }
        let json =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            ?? Data("{}".utf8)
        return body(
            json, contentType: "application/json", status: HTTPResponse.Status(code: error.status),
            headers: fields([("x-amzn-ErrorType", error.code), ("x-amzn-RequestId", requestID)]))
    }

    /// A JSON value with `x-amzn-RequestId`.
    static func json(
        _ object: Any, status: HTTPResponse.Status = .ok, requestID: String, headers: [(String, String)] = []
    ) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return body(
            data, contentType: "application/json", status: status,
            headers: fields([("x-amzn-RequestId", requestID)] + headers))
    }
}
