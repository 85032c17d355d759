// A function's `memory_mb` as a pixel limit: the decode limits a function runs with, and which knob a refusal for
// too many pixels names. The thumbnail and fetch functions both decode under it.
import ImageCore

/// The configured decode limits, lowered by a function's `memory_mb` (8 bytes a pixel).
public struct MemoryBound: Sendable {
    /// The function (its key is `functions.NAME.memory_mb`).
    public var function: String
    /// Its `memory_mb`.
    public var memoryMB: Int
    /// The limits to decode with.
    public var limits: DecodeLimits
    /// Whether `memory_mb`, not the configured pixel limit, set `limits.maxPixels`.
    public var setsPixelLimit: Bool

    /// - Parameters:
    ///   - function: the function's name.
    ///   - configuration: its settings.
    ///   - limits: the configured decode limits.
    public init(function: String, configuration: FunctionConfiguration, limits: DecodeLimits) {
        self.function = function
        memoryMB = configuration.memoryMB
        setsPixelLimit = configuration.maxPixels < limits.maxPixels
        self.limits = limits
        self.limits.maxPixels = min(limits.maxPixels, configuration.maxPixels)
    }

    /// Where the pixel limit is set, for a refusal's message.
    public var knob: String {
        "functions.\(function).memory_mb: \(memoryMB) MiB at 8 bytes a pixel; raise memory_mb for larger pictures"
    }
}
