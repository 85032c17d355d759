// The SQLite the journal and the databases run on, for `picpipe --version`.
import GRDB
import GRDBSQLite
import ImageCore

extension LinkedLibrary {
    /// SQLite, as the library itself reports its version.
    public static var sqlite: LinkedLibrary {
        LinkedLibrary(
            name: "SQLite", version: String(cString: sqlite3_libversion()),
            file: file(named: "libsqlite3.so"))
    }
}
