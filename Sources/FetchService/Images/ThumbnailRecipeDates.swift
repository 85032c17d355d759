// Since when each thumbnail size has been served by the recipes it has now, kept in STORE/db/thumbnail-recipes.json
// so that a restart, too, knows whether the configuration changed: a thumbnail's Last-Modified is never older.
import Foundation
import PipelineCore

/// The date from which each size label has been served by its present recipes.
///
/// A thumbnail URL (`/images/{id}/thumbnails/256`) names the size, not the recipe: a configuration change serves
/// other bytes at it, and going back to an earlier recipe (a quality, format, fit or colour undone, a size removed
/// and given back) serves a file made before the change. Dated by that file, Last-Modified went back, and an
/// If-Modified-Since from a client holding the other recipe's bytes was answered 304. A thumbnail's Last-Modified
/// is therefore the later of its file's time and the date its size's recipes took effect (`ThumbnailCatalog`).
struct ThumbnailRecipeDates: Sendable {
    /// One size's served recipes and when they took effect.
    struct Entry: Codable, Equatable, Sendable {
        /// The recipes served at the size, as one string (`ThumbnailCatalog`'s fingerprint).
        var recipes: String
        /// Seconds since 1970.
        var since: Int
    }

    /// Where the dates are kept.
    let file: URL
    /// The recorded entries by size label (those of sizes no longer configured too: given back, a size compares
    /// with what it was).
    private(set) var entries: [String: Entry]

    /// Reads the dates kept in the store (none when the file is missing or unreadable: every size is then dated
    /// at its first update, the safe side for a store whose history is unknown).
    init(layout: StoreLayout) {
        file = layout.databases.appendingPathComponent("thumbnail-recipes.json")
        entries =
            FileManager.default.contents(atPath: file.path).flatMap {
                try? JSONDecoder().decode([String: Entry].self, from: $0)
            } ?? [:]
    }

    /// Dates every size whose recipes differ from the recorded ones `now`, keeps the others' dates, and writes the
    /// file when something changed (best effort: a store that cannot be written keeps the dates in memory, and the
    /// next start dates the sizes again, which only costs clients a full answer).
    /// - Parameter fingerprints: each configured size's recipes, by size label.
    /// - Returns: the date (seconds since 1970) of each configured size.
    mutating func update(_ fingerprints: [String: String], now: Date = Date()) -> [String: Int] {
        let second = Int(now.timeIntervalSince1970)
        var changed = false
        var dates: [String: Int] = [:]
        for (label, recipes) in fingerprints {
            if let entry = entries[label], entry.recipes == recipes {
                dates[label] = entry.since
                continue
            }
            entries[label] = Entry(recipes: recipes, since: second)
            dates[label] = second
            changed = true
        }
        if changed {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let data = try? encoder.encode(entries) { _ = try? AtomicFile.write(data, to: file) }
        }
        return dates
    }
}
