// A PostgreSQL connection URL as libpq reads it: postgres://user:pass@host:port/db?sslmode=…, or a socket folder
// with postgres:///db?host=/run/postgresql.
import Foundation
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
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let hostParameter = query["host"]
        if let folder = hostParameter, folder.hasPrefix("/") {
            socketFolder = folder
            host = nil
        } else {
            let named = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? hostParameter
            guard let named, !named.isEmpty else {
                throw DatabaseError.invalidURL(
                    Self.redact(text), reason: "no host: give HOST in the URL or ?host=/socket/folder")
            }
            host = named
            socketFolder = nil
        }
        if let given = components.port {
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
        ].compactMap { $0 }
        return "postgres://\(credentials)@\(host ?? "")\(port == 5432 ? "" : ":\(port)")/\(database)"
            + (tls.isEmpty ? "" : "?" + tls.joined(separator: "&"))
    }

    /// A URL text with any password replaced by `<redacted>`.
    public static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "redacted"
        return components.string?.replacingOccurrences(of: ":redacted@", with: ":<redacted>@") ?? text
    }

    /// The connection settings postgres-nio takes; TLS as `sslmode` asks.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketFolder {
            configuration = .init(
                unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
        } else {
            configuration = .init(
                host: host ?? "localhost", port: port, username: user, password: password, database: database,
                tls: try tls())
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let file = sslRootCertificates, sslMode != "disable" {
            do {
                settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            } catch {
                throw DatabaseError.invalidURL(
                    description, reason: "sslrootcert \(file): no PEM certificate could be read from it (\(error))")
            }
        }
        if let (certificate, key) = sslClientCertificate, sslMode != "disable" {
            do {
                settings.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                settings.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw DatabaseError.invalidURL(
                    description,
                    reason: "sslcert \(certificate) / sslkey \(key): the certificate and its key could not be read "
                        + "(\(error))")
            }
        }
        switch sslMode {
        case "disable":
            return .disable
        case "allow", "prefer":
            // Like libpq: encrypt when the server offers it, without checking its certificate.
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
}
