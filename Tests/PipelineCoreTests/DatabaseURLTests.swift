// Database URLs as libpq reads them: what is refused, and that no password is ever printed.
import Foundation
import PipelineCore
import PostgresBackend
import Testing

@Suite struct DatabaseURLTests {
    static func refusal(_ text: String) -> String {
        do {
            _ = try DatabaseURL(parsing: text)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aPasswordIsRedactedEvenWhenTheURLDoesNotParse() {
        for text in [
            "postgres://u:s3cretpw@127.0.0.1:notaport/db",
            "postgres://u:s3cret/pw@h:x/db",
            "postgres://u@h:x/db?password=s3cretpw&sslmode=require",
            "postgres://u@h:x/db?sslpassword=s3cretpw",
        ] {
            let redacted = DatabaseSettings.redact(text)
            #expect(!redacted.contains("s3cret"), "\(redacted)")
            #expect(redacted.contains(PicpipeConfiguration.redacted), "\(redacted)")
            #expect(!Self.refusal(text).contains("s3cret"), "\(Self.refusal(text))")
        }
        #expect(DatabaseSettings.redact("postgres://u@h:x/db?sslmode=require") == "postgres://u@h:x/db?sslmode=require")
    }

    @Test func aMisspeltParameterIsRefusedAsLibpqRefusesIt() {
        let refusal = Self.refusal("postgres://u:s3cret@db.example/photos?sslmod=verify-full")
        #expect(refusal.contains("unknown parameter sslmod"), "\(refusal)")
        #expect(!refusal.contains("s3cret"))
        #expect(Self.refusal("postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.crt") == "accepted")
    }

    @Test func aPortPast65535IsRefusedAndAnIPv6LiteralIsAHost() throws {
        #expect(Self.refusal("postgres://u@h:99999/db").contains("port 99999 is not 1-65535"))
        let literal = try DatabaseURL(parsing: "postgres://u@[::1]:5433/db")
        #expect(literal.host == "::1")
        #expect(literal.port == 5433)
    }
}
