// The independent OIDC issuer the auth tests trust (scripts/oidc-test-issuer.py: PyJWT + cryptography from PyPI,
// run from the .build-venv that .ci/run fills), and a small HTTP client for the tests that talk to serve.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A running `oidc-test-issuer.py` on a loopback port.
final class OIDCIssuerProcess {
    let process = Process()
    let port: Int
    var issuer: String { "http://127.0.0.1:\(port)" }

    /// The venv's python when PyJWT and cryptography import there; `nil` otherwise. In CI a missing PyJWT is a
    /// failure (recorded here), never a skip.
    static func python() -> URL? {
        let python = PicpipeCLI.APIConformanceTests.venv.appendingPathComponent("bin/python")
        var usable = false
        if FileManager.default.isExecutableFile(atPath: python.path) {
            let check = Process()
            check.executableURL = python
            check.arguments = ["-c", "import jwt, cryptography"]
            check.standardOutput = FileHandle.nullDevice
            check.standardError = FileHandle.nullDevice
            if (try? check.run()) != nil {
                check.waitUntilExit()
                usable = check.terminationStatus == 0
            }
        }
        if usable { return python }
        #expect(
            ProcessInfo.processInfo.environment["CI"] != "true",
            "PyJWT and cryptography are not installed in \(PicpipeCLI.APIConformanceTests.venv.path); .ci/run installs them")
        print("skipped: PyJWT/cryptography are not installed in \(PicpipeCLI.APIConformanceTests.venv.path) (pip install PyJWT cryptography)")
        return nil
    }

    /// Starts the issuer and waits for its port.
    init(python: URL, folder: URL) async throws {
        let portFile = folder.appendingPathComponent("issuer-\(UUID().uuidString).port")
        process.executableURL = python
        process.arguments = [
            PicpipeProcess.packageRoot.appendingPathComponent("scripts/oidc-test-issuer.py").path, portFile.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var found: Int?
        let process = self.process
        try await ServeProcess.eventually("the issuer listening", within: 60) {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            return found != nil || !process.isRunning
        }
        guard let found else { throw ServeTestError.timedOut("the OIDC issuer did not start") }
        port = found
    }

    /// Kills it: a child of the test process inherits its ignored SIGTERM, so only SIGKILL ends it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A token from the issuer: `kid` picks the key (rsa-1, rsa-2: RS256; ec-1: ES256), `claims` override the
    /// defaults (iss, aud picpipe-api, sub alice, iat, exp in 5 minutes; NSNull removes one), `attack` makes a
    /// broken one (none, hs256-public, tamper).
    func mint(kid: String = "rsa-1", claims: [String: Any] = [:], attack: String? = nil) async throws -> String {
        var request: [String: Any] = ["kid": kid, "claims": claims]
        if let attack { request["attack"] = attack }
        let answer = try await HTTPCall.send(
            "POST", "\(issuer)/mint", body: try JSONSerialization.data(withJSONObject: request))
        #expect(answer.status == 200)
        return String(decoding: answer.body, as: UTF8.self)
    }

    /// Publishes these keys in the JWKS from now on.
    func publish(_ kids: [String]) async throws {
        let answer = try await HTTPCall.send(
            "POST", "\(issuer)/rotate", body: try JSONSerialization.data(withJSONObject: ["publish": kids]))
        #expect(answer.status == 200)
    }

    /// Replaces the key pairs of `kids` with new ones under the same kids (a key rotated in place).
    func replace(_ kids: [String]) async throws {
        let answer = try await HTTPCall.send(
            "POST", "\(issuer)/rotate", body: try JSONSerialization.data(withJSONObject: ["replace": kids]))
        #expect(answer.status == 200)
    }

    /// How many times the JWKS was fetched.
    func jwksFetches() async throws -> Int {
        let answer = try await HTTPCall.send("GET", "\(issuer)/stats")
        let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
        return object?["jwks_fetches"] as? Int ?? -1
    }
}

/// One HTTP exchange with URLSession, for tests.
struct HTTPCall {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil
    ) async throws -> HTTPCall {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response): (Data, URLResponse)
        if let body {
            (data, response) = try await URLSession.shared.upload(for: request, from: body)
        } else {
            (data, response) = try await URLSession.shared.data(for: request)
        }
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name] = value }
        }
        return HTTPCall(status: http.statusCode, headers: fields, body: data)
    }

    static func bearer(_ credential: String) -> [String: String] { ["Authorization": "Bearer \(credential)"] }
}
