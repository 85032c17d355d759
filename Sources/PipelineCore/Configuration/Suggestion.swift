// "Did you mean …?": the closest known name to a mistyped one, by edit distance.

/// Finds the known name a mistyped one most likely meant.
public enum Suggestion {
    /// The candidate closest to `name` (case-insensitive Levenshtein distance), when it is close enough to be a
    /// typo: at most a third of the longer name's length, and at least one edit less than the name itself.
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(name.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = max(1, max(target.count, best.candidate.count) / 3)
        return best.distance <= allowed && best.distance < target.count ? best.candidate : nil
    }

    /// The Levenshtein distance, counting a swap of two neighbours as one edit (so `thumbnial` is 1 from `thumbnail`).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
