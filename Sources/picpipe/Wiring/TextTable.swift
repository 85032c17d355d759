// Aligned plain-text tables for `events` and `stats`.
import Foundation
import PipelineCore

/// Renders rows as left-aligned columns separated by two spaces.
enum TextTable {
    /// - Parameter rows: the cells; control characters in them (a file name's line break or terminal escape)
    ///   are shown escaped, so a cell stays on its line and cannot drive the terminal.
    static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map(LogText.escaped) }
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line +=
                    index == row.count - 1
                    ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            out += line + "\n"
        }
        return out
    }
}
