// A PostgreSQL connection URL as libpq reads it: postgres://user:pass@host:port/db?sslmode=…, or a socket folder
// with postgres:///db?host=/run/postgresql.
import Foundation
import PipelineCore
import PostgresNIO

/// Where and how to connect, parsed from a `postgres://` (or `postgresql://`) URL.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address; `nil` with a socket folder.
    public var host: String?
    /// The TCP port (5432 unless given).
    public var port: Int
    /// The folder holding the server's socket (`?host=/dir`), when connecting over a Unix socket.
    public var socketFolder: String?
    /// The user (default `postgres`).
    public var user: String
    /// The password, if any.
    public var password: String?
    /// The database name (default: the user's name, as libpq does).
    public var database: String
    /// `disable`, `allow`, `prefer` (the default), `require`, `verify-ca` or `verify-full`.
    public var sslMode: String

    /// A PEM file of the certificate authorities to trust instead of the system's (`sslrootcert`, as libpq): how a
    /// server certificate signed by a private CA is verified. With it, `require` verifies the CA too (libpq's rule).
    public var sslRootCertificates: String?

    /// A client certificate (PEM) and its private key (`sslcert`, `sslkey`, as libpq), for a server that
    /// authenticates clients by certificate (`hostssl … cert` in its pg_hba.conf).
    public var sslClientCertificate: (certificate: String, key: String)? {
        sslCertificateFile.flatMap { file in sslKeyFile.map { (file, $0) } }
    }
    private var sslCertificateFile: String?
    private var sslKeyFile: String?
    /// The passphrase of an encrypted `sslkey` (`sslpassword`, as libpq); never printed.
    private var sslKeyPassword: String?

    /// The query parameters picpipe reads (libpq's names); any other is refused.
    static let parameters: Set = [
        "host", "port", "dbname", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword",
    ]

    /// The modes `sslmode` accepts.
    public static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// Parses a URL; the error says what is wrong with it.
    public init(parsing text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw DatabaseError.invalidURL(
                Self.redact(text),
                reason: "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE or postgres:///DATABASE?host=/socket/dir")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            // A misspelt parameter is refused, as libpq refuses it: `sslmod=verify-full` ignored would connect in
            // plain text.
            guard Self.parameters.contains(item.name) else {
                throw DatabaseError.invalidURL(
                    Self.redact(text),
                    reason:
                        "unknown parameter \(item.name) (picpipe reads \(Self.parameters.sorted().joined(separator: ", ")))"
                )
            }
            query[item.name] = item.value ?? ""
        }
        let hostParameter = query["host"]
        if let folder = hostParameter, folder.hasPrefix("/") {
            socketFolder = folder
            host = nil
        } else {
            // An IPv6 literal is written in brackets in a URL (`postgres://[::1]:5432/db`), not in a connection.
            let named =
                components.host.flatMap {
                    $0.isEmpty ? nil : $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                }
                ?? hostParameter
            guard let named, !named.isEmpty else {
                throw DatabaseError.invalidURL(
                    Self.redact(text), reason: "no host: give HOST in the URL or ?host=/socket/folder")
            }
            host = named
            socketFolder = nil
        }
        if let given = components.port {
            guard (1...65535).contains(given) else {
                throw DatabaseError.invalidURL(Self.redact(text), reason: "port \(given) is not 1-65535")
            }
            port = given
        } else if let given = query["port"] {
            guard let number = Int(given), (1...65535).contains(number) else {
                throw DatabaseError.invalidURL(Self.redact(text), reason: "port \(given) is not 1-65535")
            }
            port = number
        } else {
            port = 5432
        }
        user = components.user.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? query["password"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? query["dbname"] ?? user
        sslMode = query["sslmode"] ?? "prefer"
        // libpq's `system` names the system's authorities, which are used anyway.
        sslRootCertificates = query["sslrootcert"].flatMap { $0.isEmpty || $0 == "system" ? nil : $0 }
        sslCertificateFile = query["sslcert"].flatMap { $0.isEmpty ? nil : $0 }
        sslKeyFile = query["sslkey"].flatMap { $0.isEmpty ? nil : $0 }
        sslKeyPassword = query["sslpassword"]
        guard (sslCertificateFile == nil) == (sslKeyFile == nil) else {
            throw DatabaseError.invalidURL(
                Self.redact(text), reason: "sslcert and sslkey go together: the certificate and its private key")
        }
        guard Self.sslModes.contains(sslMode) else {
            throw DatabaseError.invalidURL(
                Self.redact(text),
                reason: "sslmode=\(sslMode) is not one of \(Self.sslModes.joined(separator: ", "))")
        }
    }

    /// The URL with its password replaced, for logs and errors.
    public var description: String {
        let credentials = user + (password == nil ? "" : ":<redacted>")
        if let socketFolder { return "postgres://\(credentials)@/\(database)?host=\(socketFolder)" }
        let tls = [
            sslMode == "prefer" ? nil : "sslmode=\(sslMode)", sslRootCertificates.map { "sslrootcert=\($0)" },
            sslCertificateFile.map { "sslcert=\($0)" }, sslKeyFile.map { "sslkey=\($0)" },
            sslKeyPassword.map { _ in "sslpassword=<redacted>" },
        ].compactMap { $0 }
        return "postgres://\(credentials)@\(host ?? "")\(port == 5432 ? "" : ":\(port)")/\(database)"
            + (tls.isEmpty ? "" : "?" + tls.joined(separator: "&"))
    }

    /// A URL text with its secrets (the password, `password=` and `sslpassword=`) replaced by `<redacted>`.
    public static func redact(_ text: String) -> String { DatabaseSettings.redact(text) }

    /// The connection settings postgres-nio takes, in the order to try them; TLS as `sslmode` asks. One, except
    /// for `allow`: like libpq, a plain connection first and an encrypted one if the server refuses it.
    func connectionConfigurations() throws -> [PostgresConnection.Configuration] {
        if socketFolder != nil { return [try connectionConfiguration(tls: .disable)] }
        if sslMode != "allow" { return [try connectionConfiguration(tls: try tls())] }
        return [try connectionConfiguration(tls: .disable), try connectionConfiguration(tls: try tls())]
    }

    private func connectionConfiguration(tls: PostgresConnection.Configuration.TLS) throws
        -> PostgresConnection.Configuration
    {
        var configuration: PostgresConnection.Configuration
        if let socketFolder {
            configuration = .init(
                unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
        } else {
            configuration = .init(
                host: host ?? "localhost", port: port, username: user, password: password, database: database,
                tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let file = sslRootCertificates, sslMode != "disable" {
            settings.trustRoots = .certificates(try certificates(file, parameter: "sslrootcert"))
        }
        if let (certificate, key) = sslClientCertificate, sslMode != "disable" {
            settings.certificateChain = try certificates(certificate, parameter: "sslcert").map { .certificate($0) }
            settings.privateKey = .privateKey(try privateKey(key))
        }
        switch sslMode {
        case "disable":
            return .disable
        case "allow", "prefer":
            // Like libpq: encrypt when the server offers it (for `allow`, once a plain connection was refused),
            // without checking its certificate.
            settings.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: settings))
        case "require":
            // Like libpq: the certificate goes unchecked unless root certificates were given (then as verify-ca).
            settings.certificateVerification = sslRootCertificates == nil ? .none : .noHostnameVerification
            return .require(try NIOSSLContext(configuration: settings))
        case "verify-ca":
            settings.certificateVerification = .noHostnameVerification
            return .require(try NIOSSLContext(configuration: settings))
        default:
            settings.certificateVerification = .fullVerification
            return .require(try NIOSSLContext(configuration: settings))
        }
    }

    /// The certificates of a PEM file the URL names with `parameter`.
    private func certificates(_ file: String, parameter: String) throws -> [NIOSSLCertificate] {
        do {
            return try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw DatabaseError.invalidURL(
                description, reason: "\(parameter) \(file): no PEM certificate could be read from it (\(error))")
        }
    }

    /// The client certificate's key, decrypted with `sslpassword` when it is encrypted.
    private func privateKey(_ file: String) throws -> NIOSSLPrivateKey {
        let encrypted = (try? String(contentsOfFile: file, encoding: .utf8))?.contains("ENCRYPTED") ?? false
        do {
            guard let passphrase = sslKeyPassword else { return try NIOSSLPrivateKey(file: file, format: .pem) }
            return try NIOSSLPrivateKey(file: file, format: .pem) { (setPassphrase: NIOSSLPassphraseSetter<[UInt8]>) in
                setPassphrase(Array(passphrase.utf8))
            }
        } catch {
            let reason =
                switch (encrypted, sslKeyPassword) {
                case (true, nil): "it is encrypted: give its passphrase with sslpassword=…"
                case (true, _): "the sslpassword given does not decrypt it"
                default: "no PEM private key could be read from it (\(error))"
                }
            throw DatabaseError.invalidURL(description, reason: "sslkey \(file): " + reason)
        }
    }
}
