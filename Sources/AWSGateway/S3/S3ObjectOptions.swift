// What a PutObject, CopyObject, CreateMultipartUpload or POST Object may ask beside the bytes: the options picpipe
// cannot honour (customer keys, KMS, object lock, tagging, ACLs, storage classes) refused as S3 refuses them, never
// dropped behind a success; and the representation headers (Cache-Control, Content-Disposition, …) it keeps with
// the object and sends back on GET and HEAD.
import Foundation
import HTTPTypes

/// The object options of a write request, read through a lookup by lower-cased header name.
enum S3ObjectOptions {
    /// The storage classes S3 knows; only STANDARD is what the store is.
    static let storageClasses: Set<String> = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
        "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
    ]

    /// The canned ACLs a bucket without ACLs (S3's default, BucketOwnerEnforced) still accepts.
    static let acceptedACLs: Set<String> = ["private", "bucket-owner-full-control"]

    /// The headers kept with an object and returned by GET and HEAD, as S3 keeps them.
    static let keptHeaders = [
        "cache-control", "content-disposition", "content-encoding", "content-language", "expires",
    ]

    /// S3's limit on an object's user metadata: the UTF-8 bytes of its `x-amz-meta-*` names (without the prefix)
    /// and values, added up.
    static let maxUserMetadataBytes = 2048

    /// Refuses user metadata over S3's limit, as S3 refuses it (it was stored whatever its size until session 35).
    /// - Parameter metadata: the `x-amz-meta-*` names without the prefix, and their values.
    /// - Throws: `MetadataTooLarge` (400) with the size and the limit.
    static func checkMetadataSize(_ metadata: [String: String]) throws {
        let size = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= maxUserMetadataBytes else {
            throw AWSError(
                "MetadataTooLarge", status: 400,
                "Your metadata headers exceed the maximum allowed metadata size: the x-amz-meta-* names and values "
                    + "add up to \(size) bytes of UTF-8, at most \(maxUserMetadataBytes) are allowed."
            ).with([("Size", String(size)), ("MaxSizeAllowed", String(maxUserMetadataBytes))])
        }
    }

    /// Refuses a request carrying a customer-provided encryption key (SSE-C): S3 takes those over HTTPS only, and
    /// this listener speaks plain HTTP. Any S3 request (a GET of an SSE-C object sends them too).
    static func refuseCustomerKeys(_ value: (String) -> String?) throws {
        for prefix in ["x-amz-server-side-encryption-customer-", "x-amz-copy-source-server-side-encryption-customer-"] {
            for suffix in ["algorithm", "key", "key-md5"] where value(prefix + suffix) != nil {
                throw AWSError.invalidRequest(
                    "Requests specifying Server Side Encryption with Customer provided keys must be made over a "
                        + "secure connection.")
            }
        }
    }

    /// Refuses the options of a write the store cannot honour.
    /// - Parameter value: a header's (or form field's) value by lower-cased name.
    /// - Throws: S3's error for the first one found.
    static func refuseUnsupported(_ value: (String) -> String?) throws {
        try refuseCustomerKeys(value)
        if let method = value("x-amz-server-side-encryption") {
            switch method {
            case "AES256":
                break
            case "aws:kms", "aws:kms:dsse":
                throw AWSError.notImplemented(
                    "x-amz-server-side-encryption: \(method) (picpipe has no KMS; it does not encrypt the store)")
            default:
                throw AWSError.invalidArgument("The encryption method specified is not supported: \(method).")
            }
        }
        for name in ["x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-context"]
        where value(name) != nil {
            throw AWSError.notImplemented("\(name) (picpipe has no KMS)")
        }
        for name in ["x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"]
        where value(name) != nil {
            throw AWSError.invalidRequest("Bucket is missing Object Lock Configuration")
        }
        if value("x-amz-tagging") != nil { throw AWSError.notImplemented("object tagging (x-amz-tagging)") }
        let aclNotSupported = AWSError(
            "AccessControlListNotSupported", status: 400, "The bucket does not allow ACLs")
        if let acl = value("x-amz-acl"), !acceptedACLs.contains(acl) { throw aclNotSupported }
        for grant in ["full-control", "read", "read-acp", "write", "write-acp"]
        where value("x-amz-grant-" + grant) != nil {
            throw aclNotSupported
        }
        if let storageClass = value("x-amz-storage-class"), storageClass != "STANDARD" {
            guard storageClasses.contains(storageClass) else {
                throw AWSError(
                    "InvalidStorageClass", status: 400, "The storage class you specified is not valid: \(storageClass)")
            }
            throw AWSError.notImplemented("x-amz-storage-class: \(storageClass) (the store has one class, STANDARD)")
        }
    }

    /// The representation headers to keep with the object (`keptHeaders`), `aws-chunked` taken out of
    /// Content-Encoding (it describes the request's body, not the object, as S3 treats it).
    static func keptHeaders(_ value: (String) -> String?) -> [String: String] {
        var kept: [String: String] = [:]
        for name in keptHeaders {
            guard var text = value(name), HTTPField.isValidValue(text) else { continue }
            if name == "content-encoding" {
                text = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && $0.lowercased() != "aws-chunked" }.joined(separator: ", ")
            }
            if !text.isEmpty { kept[name] = text }
        }
        return kept
    }
}
