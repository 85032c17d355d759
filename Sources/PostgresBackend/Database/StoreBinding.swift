// Which store a PostgreSQL database serves: the first store to open it binds it, any other store is refused.
import Foundation
import PipelineCore

/// The binding of a database to one store (schema `picpipe_store`, one row).
///
/// Content addressing makes a second store in the same database take every upload for a duplicate of the first
/// store's picture: no thumbnail, no error. So the database records the id of the store that first opened it
/// (`StoreIdentity`, kept in the store, the same on every machine that mounts it) and refuses any other.
public enum StoreBinding {
    /// The schema and its migrations.
    static let migrator = SchemaMigrator(
        schema: "picpipe_store",
        migrations: [
            .init(
                "v1: the one store this database serves",
                [
                    """
                    CREATE TABLE picpipe_store.binding (
                        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
                        store_id TEXT NOT NULL,
                        store_path TEXT NOT NULL,
                        bound_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """
                ])
        ])

    /// Binds the database to `store` if it serves no store yet; checks that it serves `store` otherwise.
    /// - Parameters:
    ///   - store: the store's id.
    ///   - path: where this process sees the store (recorded with the first binding, for the message).
    /// - Throws: `DatabaseError.boundToAnotherStore` when the database serves another store.
    public static func bind(_ pool: PostgresConnectionPool, to store: StoreIdentity, path: String) throws {
        try migrator.migrate(pool)
        try pool.run(
            "INSERT INTO picpipe_store.binding (store_id, store_path) VALUES ($1, $2) ON CONFLICT (only_row) DO NOTHING",
            [.text(store.id), .text(path)])
        let rows = try pool.run("SELECT store_id, store_path, date_trunc('second', bound_at)::text AS bound_at FROM picpipe_store.binding")
        guard let row = rows.first, let bound = row.value("store_id", as: String.self) else {
            throw DatabaseError.statementFailed(sql: "SELECT store_id FROM picpipe_store.binding", reason: "no row")
        }
        guard bound == store.id else {
            throw DatabaseError.boundToAnotherStore(
                url: pool.url.description, boundID: bound, boundPath: row.value("store_path", as: String.self) ?? "?",
                boundAt: row.value("bound_at", as: String.self) ?? "?", storeID: store.id, storePath: path)
        }
    }
}
