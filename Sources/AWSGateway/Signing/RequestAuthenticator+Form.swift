// Verifying a POST Object form's signature: no header or query is signed, the policy is. Its base64 text, as sent,
// is the string to sign, with the signing key of the scope the form's `x-amz-credential` names.
import Foundation

extension RequestAuthenticator {
    /// Verifies the signature of a POST Object form.
    /// - Parameters:
    ///   - form: the form's fields before its file.
    ///   - now: the server's time (the form's `x-amz-date` may not be ahead of it by more than the skew).
    /// - Returns: the key that signed the policy; the policy's own conditions are checked after.
    /// - Throws: `AWSError` with S3's code for each failure.
    func authenticateForm(_ form: PostForm, now: Date = Date()) throws -> Authenticated {
        if form["awsaccesskeyid"] != nil || form["signature"] != nil {
            throw AWSError.invalidArgument(
                "Signature Version 2 POST forms are not supported; sign the policy with Signature Version 4 "
                    + "(x-amz-algorithm AWS4-HMAC-SHA256; boto3: Config(signature_version='s3v4')).")
        }
        guard let policy = form["policy"] else {
            throw AWSError.accessDenied(
                "Bucket POST must contain a field named 'policy' signed with x-amz-signature: picpipe takes no anonymous uploads."
            )
        }
        guard form["x-amz-algorithm"] == SignatureV4.algorithm else {
            throw AWSError.invalidArgument(
                "Bucket POST must contain a field named 'x-amz-algorithm' with the value AWS4-HMAC-SHA256.")
        }
        guard let credentialText = form["x-amz-credential"], let amzDate = form["x-amz-date"],
            let signature = form["x-amz-signature"]
        else {
            throw AWSError.invalidArgument(
                "Bucket POST must contain the fields 'x-amz-credential', 'x-amz-date' and 'x-amz-signature'.")
        }
        let scope = try parseScope(credentialText, service: .s3)
        guard let signedTime = Self.parseAmzDate(amzDate), amzDate.hasPrefix(scope.date) else {
            throw AWSError.invalidArgument(
                "x-amz-date must be yyyyMMdd'T'HHmmss'Z' on the day x-amz-credential names (\(scope.date)): \(amzDate)")
        }
        if signedTime.timeIntervalSince(now) > Self.maxSkew {
            throw AWSError.accessDenied("Request is not valid yet (x-amz-date \(amzDate) is in the future).")
        }
        let credential = try lookup(scope.keyID, service: .s3)
        let expected = SignatureV4.signature(policy, key: signingKeys.key(credential, scope: scope))
        guard SignatureV4.constantTimeEqual(expected, signature.lowercased()) else {
            throw AWSError.signatureDoesNotMatch(.s3)
        }
        return Authenticated(credential: credential, payload: .unsigned, presigned: true)
    }
}
