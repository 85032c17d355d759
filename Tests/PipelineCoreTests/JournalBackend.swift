// The journal backends every journal test runs against: SQLite always, PostgreSQL when the test server is given
// ($PICPIPE_TEST_DATABASE_URL; required when CI=true).
import Foundation
import PipelineCore
import PostgresBackend
import Testing

/// One backend of `InvocationJournal`, opened fresh for each test.
enum JournalBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    /// The backends to run: PostgreSQL only when its server is given (or CI demands it).
    static var available: [JournalBackend] { ScratchDatabase.enabled ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// A place for one test's journals: `open()` gives a new handle on the same journal (another process).
    struct Site: Sendable {
        let backend: JournalBackend
        let open: @Sendable () throws -> any InvocationJournal

        /// What a crashed process leaves: its handle is gone (and, on PostgreSQL, its heartbeat has stopped).
        func crash(_ journal: any InvocationJournal) {
            (journal as? PostgresInvocationJournal)?.abandon()
        }
    }

    /// Runs `body` with a fresh, empty journal store of this backend, removed afterwards.
    func withSite(_ body: (Site) throws -> Void) throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "picpipe-journal-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("events.sqlite")
            try body(Site(backend: self, open: { try SQLiteInvocationJournal(path: path) }))
        case .postgres:
            try ScratchDatabase.with { url in
                try body(
                    Site(
                        backend: self,
                        open: {
                            try PostgresInvocationJournal(
                                pool: PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 4))
                        }))
            }
        }
    }

    /// Runs `body` with one fresh journal of this backend.
    func withJournal(_ body: (any InvocationJournal) throws -> Void) throws {
        try withSite { site in
            let journal = try site.open()
            defer { site.crash(journal) }
            try body(journal)
        }
    }
}
