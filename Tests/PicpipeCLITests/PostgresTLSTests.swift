// TLS to PostgreSQL as the URL asks (`sslmode`, `sslrootcert`), against a real server that takes TCP connections
// only over TLS, its certificate for `localhost` signed by a CA of its own (`scripts/test-postgres.sh start --tls`).
// Runs where the PostgreSQL tests run (CI: always) and the server can be started (root, Debian's postgresql). The
// script runs as a child awaited without holding a thread (`Process.runToExit`).
import Foundation
import PipelineCore
import Testing

@testable import PostgresBackend

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct PostgresTLSTests {
    /// The TLS server: its port, its CA's certificate, the folder of certuser's client certificate, and its folder.
    struct Server {
        var port: Int
        var authority: String
        var client: String
        var folder: String
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/test-postgres.sh").path

    /// Runs the script with `arguments`; its standard output.
    static func script(_ arguments: [String]) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-pg-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        try await process.runToExit(timeout: 120)
        try #require(process.terminationStatus == 0, "test-postgres.sh \(arguments): exit \(process.terminationStatus)")
        return String(decoding: try Data(contentsOf: output), as: UTF8.self)
    }

    /// Starts a TLS server for `body` and stops it after; nil (skipped, said why) where none can run.
    static func withServer(_ body: (Server) async throws -> Void) async throws {
        guard ScratchDatabase.enabled else { return }
        guard getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" else {
            print("skipped: the TLS PostgreSQL server is started as root (CI runs as root)")
            return
        }
        let exports = try await script(["start", "--tls"])
        var values: [String: String] = [:]
        for line in exports.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
        }
        let folder = try #require(values["PICPIPE_TEST_POSTGRES_DIR"])
        do {
            let url = try DatabaseURL(parsing: try #require(values["PICPIPE_TEST_DATABASE_URL"]))
            let authority = try #require(values["PICPIPE_TEST_POSTGRES_CA"])
            let client = try #require(values["PICPIPE_TEST_POSTGRES_CLIENT"])
            try await body(Server(port: url.port, authority: authority, client: client, folder: folder))
        } catch {
            _ = try? await script(["stop", folder])
            throw error
        }
        _ = try await script(["stop", folder])
    }

    /// Connects with `url` and says whether the session is encrypted (from the server's own view, `pg_stat_ssl`).
    static func encrypted(_ url: String) throws -> Bool {
        let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 1)
        let rows = try pool.withConnection { connection in
            try connection.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        }
        return rows.first?.value("ssl", as: Bool.self) == true
    }

    /// Why connecting with `url` fails; nil when it connects.
    static func failure(_ url: String) -> String? {
        do {
            _ = try encrypted(url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func theURLsTLSModesAreHonouredAgainstARealServer() async throws {
        try await Self.withServer { server in
            let byName = "postgres://postgres@localhost:\(server.port)/postgres"
            let byAddress = "postgres://postgres@127.0.0.1:\(server.port)/postgres"
            let authority = "sslrootcert=\(server.authority)"
            // Verified: the CA given, the name in the certificate.
            #expect(try Self.encrypted(byName + "?sslmode=verify-full&" + authority))
            // The CA checked, not the name (verify-ca; require with a CA given is the same, as in libpq).
            #expect(try Self.encrypted(byAddress + "?sslmode=verify-ca&" + authority))
            #expect(try Self.encrypted(byAddress + "?sslmode=require&" + authority))
            // Encrypted without a check (require), and by default (prefer: the server offers TLS).
            #expect(try Self.encrypted(byAddress + "?sslmode=require"))
            #expect(try Self.encrypted(byAddress))

            // Refused: the address is not the certificate's name; the CA is not the system's; no TLS at all.
            let wrongName = try #require(Self.failure(byAddress + "?sslmode=verify-full&" + authority))
            #expect(wrongName.contains("the server's certificate does not name the URL's host"), "\(wrongName)")
            let unknownAuthority = try #require(Self.failure(byName + "?sslmode=verify-full"))
            #expect(
                unknownAuthority.contains("the server's certificate is not signed by an authority trusted here"),
                "\(unknownAuthority)")
            let plain = try #require(Self.failure(byAddress + "?sslmode=disable"))
            #expect(plain.contains("no encryption"), "\(plain)")
            // A CA file that holds no certificate is named, before any connection.
            let notPEM = server.folder + "/options"
            let badAuthority = try #require(Self.failure(byName + "?sslmode=verify-full&sslrootcert=" + notPEM))
            #expect(badAuthority.contains("sslrootcert \(notPEM): no PEM certificate could be read"), "\(badAuthority)")

            // A role that logs in only by certificate (`hostssl … cert`): with sslcert and sslkey, and refused
            // without; one without the other is a mistake in the URL.
            let asCertUser = "postgres://certuser@localhost:\(server.port)/postgres?sslmode=verify-full&" + authority
            let certificate = "&sslcert=\(server.client)/client.crt&sslkey=\(server.client)/client.key"
            #expect(try Self.encrypted(asCertUser + certificate))
            let noCertificate = try #require(Self.failure(asCertUser))
            #expect(noCertificate.contains("connection requires a valid client certificate"), "\(noCertificate)")
            let halfCertificate = try #require(Self.failure(asCertUser + "&sslcert=\(server.client)/client.crt"))
            #expect(halfCertificate.contains("sslcert and sslkey go together"), "\(halfCertificate)")
            // An encrypted key: read with its passphrase (sslpassword), refused with why without it or with a wrong one.
            let encryptedKey = "&sslcert=\(server.client)/client.crt&sslkey=\(server.client)/client.encrypted.key"
            #expect(try Self.encrypted(asCertUser + encryptedKey + "&sslpassword=picpipe-test"))
            let noPassphrase = try #require(Self.failure(asCertUser + encryptedKey))
            #expect(noPassphrase.contains("it is encrypted: give its passphrase with sslpassword="), "\(noPassphrase)")
            let wrongPassphrase = try #require(Self.failure(asCertUser + encryptedKey + "&sslpassword=guess"))
            #expect(wrongPassphrase.contains("the sslpassword given does not decrypt it"), "\(wrongPassphrase)")
            #expect(!wrongPassphrase.contains("guess"), "\(wrongPassphrase)")

            // sslmode=allow, as libpq: plain first, encrypted when the server refuses plain (postgres may log in
            // only over TLS here, eitheruser both ways); prefer encrypts whenever the server offers it.
            #expect(try Self.encrypted(byAddress + "?sslmode=allow"))
            let either = "postgres://eitheruser@127.0.0.1:\(server.port)/postgres"
            #expect(try !Self.encrypted(either + "?sslmode=allow"))
            #expect(try Self.encrypted(either + "?sslmode=prefer"))

            // The commands take the same URL: a batch stores its picture's metadata over verified TLS and `query`
            // finds its row; the wrong name is refused with why.
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = try PicpipeCLI.BatchCommandTests.folderWithOnePicture(in: work)
            let store = work.appendingPathComponent("store").path
            let database = "/picpipe_test?sslmode=verify-full&" + authority
            let verified = "postgres://postgres@localhost:\(server.port)" + database
            let batch = try await PicpipeProcess.run(["batch", inputs.path, "--store", store, "--database", verified])
            #expect(batch.status == 0, "\(batch.stderr)")
            let query = try await PicpipeProcess.run(["query", "--store", store, "--database", verified, "--json"])
            #expect(query.status == 0, "\(query.stderr)")
            #expect(query.stdout.contains("\"width\":320,\"height\":200"), "\(query.stdout)")
            let refused = try await PicpipeProcess.run(
                ["query", "--store", store, "--database", "postgres://postgres@127.0.0.1:\(server.port)" + database])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("does not name the URL's host"), "\(refused.stderr)")
        }
    }

    @Test func theRootCertificatesAreKeptInTheURLsDescription() throws {
        let url = try DatabaseURL(
            parsing: "postgres://u:secret@db:5433/pics?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url.sslRootCertificates == "/etc/ca.pem")
        #expect(url.description == "postgres://u:<redacted>@db:5433/pics?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(try DatabaseURL(parsing: "postgres://db/pics?sslrootcert=system").sslRootCertificates == nil)
    }

    @Test func secretsInTheQueryAreNeverPrinted() throws {
        let url = try DatabaseURL(parsing: "postgres://u@db/pics?sslcert=/c.pem&sslkey=/k.pem&sslpassword=hunter2")
        #expect(url.description == "postgres://u@db/pics?sslcert=/c.pem&sslkey=/k.pem&sslpassword=<redacted>")
        // A URL refused before it is parsed keeps none of its secrets either.
        let refused = "postgres://u:pw1@db/pics?password=pw2&sslpassword=pw3&sslmode=sometimes"
        do {
            _ = try DatabaseURL(parsing: refused)
            Issue.record("sslmode=sometimes was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("sslmode=sometimes is not one of"), "\(message)")
            for secret in ["pw1", "pw2", "pw3"] { #expect(!message.contains(secret), "\(message)") }
        }
    }
}
