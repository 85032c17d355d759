// How many malloc arenas a long-running serve may use. glibc gives each thread that meets a locked arena a new one,
// up to 8 per core, and memory freed in an arena mostly stays with the process: a serve's NIO loops, cooperative
// pool and decode threads held about 390 MB after a 10-minute mixed load, against 165 MB with two arenas.
import CMallocTuning
import Foundation

enum MallocArenas {
    /// Limits the arenas to one per core (at least 2), unless `MALLOC_ARENA_MAX` says otherwise (glibc reads that
    /// itself at start). Called before serve starts its threads: the limit applies to arenas made after it.
    static func limitForLongRunningProcess() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = picpipe_limit_malloc_arenas(Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }
}
