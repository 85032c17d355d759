// How far a decode has got, for a resize that reads its rows on another thread while the later rows are decoded.
import Foundation

/// The number of rows a decode has written so far. The decode raises it (`publish`) and ends it (`end`, on success
/// or failure); a reader on another thread waits for the rows it needs (`wait(for:)`).
final class DecodedRows: @unchecked Sendable {
    // @unchecked Sendable: `written` and `ended` are read and written only while `condition` is locked. The decode
    // writes rows before it publishes their count and never writes them again, so a reader that read the count under
    // the same lock sees those rows whole.
    private let condition = NSCondition()
    private var written = 0
    private var ended = false
    /// The rows the reader waits for (`Int.max`: it is not waiting), so the decode wakes it once they are there,
    /// not on every band (each wake-up is a context switch on both threads).
    private var wanted = Int.max

    /// The first `rows` rows are written.
    func publish(_ rows: Int) {
        condition.lock()
        written = max(written, rows)
        if written >= wanted { condition.broadcast() }
        condition.unlock()
    }

    /// The decode is over: no more rows will come.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the first `rows` rows are written. - Returns: `false` when the decode ended without them.
    func wait(for rows: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        wanted = rows
        while written < rows && !ended { condition.wait() }
        wanted = .max
        return written >= rows
    }
}
