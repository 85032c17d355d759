// The sizes a thumbnail goes through: the resized picture, then (for `cover`) the centre crop.

/// Thumbnail sizes computed from a source size, a box and a fit mode.
public enum ThumbnailGeometry {
    /// The size of the finished thumbnail.
    /// - Parameters:
    ///   - sourceWidth: the upright source width.
    ///   - sourceHeight: the upright source height.
    ///   - boxWidth: the box width.
    ///   - boxHeight: the box height.
    ///   - fit: `inside` keeps the whole picture; `cover` fills the box and crops.
    /// - Returns: at most the box, never larger than the source, at least 1x1.
    public static func size(sourceWidth: Int, sourceHeight: Int, boxWidth: Int, boxHeight: Int, fit: FitMode) -> (
        width: Int, height: Int
    ) {
        let resized = resizedSize(
            sourceWidth: sourceWidth, sourceHeight: sourceHeight, boxWidth: boxWidth, boxHeight: boxHeight, fit: fit)
        switch fit {
        case .inside: return resized
        case .cover: return (min(resized.width, max(1, boxWidth)), min(resized.height, max(1, boxHeight)))
        }
    }

    /// The size the whole picture is resized to before any crop.
    /// - Returns: for `inside` the finished size; for `cover` a size covering the box (or the source, if smaller).
    public static func resizedSize(sourceWidth: Int, sourceHeight: Int, boxWidth: Int, boxHeight: Int, fit: FitMode)
        -> (width: Int, height: Int)
    {
        let sourceWidth = max(1, sourceWidth)
        let sourceHeight = max(1, sourceHeight)
        let scaleX = Double(max(1, boxWidth)) / Double(sourceWidth)
        let scaleY = Double(max(1, boxHeight)) / Double(sourceHeight)
        let scale = min(1, fit == .inside ? min(scaleX, scaleY) : max(scaleX, scaleY))
        if scale >= 1 { return (sourceWidth, sourceHeight) }
        var width = Int((Double(sourceWidth) * scale).rounded())
        var height = Int((Double(sourceHeight) * scale).rounded())
        // The constraining side lands exactly on the box, whatever the rounding did.
        if scale == scaleX { width = max(1, boxWidth) }
        if scale == scaleY { height = max(1, boxHeight) }
        return (min(max(1, width), sourceWidth), min(max(1, height), sourceHeight))
    }
}
