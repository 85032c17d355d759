// The answers of a failed authentication or authorization, as RFC 6750 says a bearer-token API gives them.
import Hummingbird

extension APIError {
    /// 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`: the credentials were
    /// sent and are not good (expired, wrong audience, unknown key, bad signature, …).
    static func invalidToken(_ reason: String) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] =
            "Bearer realm=\"picpipe\", error=\"invalid_token\", error_description=\"\(Self.quotable(reason))\""
        return APIError(.unauthorized, code: "invalid_token", message: reason, headers: headers)
    }

    /// 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`: the caller is known and lacks the
    /// scope.
    static func insufficientScope(_ scope: Scope, caller: Caller) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] =
            "Bearer realm=\"picpipe\", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\""
        return APIError(
            .forbidden, code: "insufficient_scope",
            message: "this request needs the scope \(scope.rawValue); \(Self.quotable(caller.subject)) has: "
                + caller.scopeList,
            headers: headers)
    }

    /// 503: the issuer's keys could not be fetched, so no token can be checked now.
    static func issuerUnavailable(_ reason: String) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "5"
        return APIError(
            .serviceUnavailable, code: "issuer_unavailable",
            message: "the token cannot be checked now: \(reason)", headers: headers)
    }

    /// Text safe inside a quoted header parameter (RFC 6750 allows printable ASCII but `"` and `\\` there): a
    /// double quote becomes a single one (the kid a message quotes stays readable; until session 27 it became `?`),
    /// a backslash a slash, anything else outside printable ASCII `?`.
    static func quotable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(300).map { scalar in
                    switch scalar {
                    case "\"": return "'"
                    case "\\": return "/"
                    default: return (0x20..<0x7f).contains(scalar.value) ? scalar : "?"
                    }
                }))
    }
}
