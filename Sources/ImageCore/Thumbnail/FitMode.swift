// How a picture fits a thumbnail box.

/// How a thumbnail fills its box.
public enum FitMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Keep the aspect ratio and fit entirely inside the box; never upscale.
    case inside
    /// Keep the aspect ratio, fill the box and crop the overflow around the centre; never upscale.
    case cover
}
