// The last check before an upload is kept: it must decode within the limits (so corrupt files and
// decompression bombs are refused with 422 and leave nothing behind).
import Foundation
import ImageCore
import NIOPosix
import PipelineCore
import ThumbnailService

/// Decodes a spooled upload once, at the smallest JPEG scale, to prove it is a whole, decodable picture.
package struct UploadValidator: Sendable {
    /// The decode limits (pixels, bytes) of the configuration.
    let limits: DecodeLimits
    let threadPool: NIOThreadPool
    /// The fetch function's memory bound, whose `limits` are used instead when given: a refusal then names
    /// `functions.fetch.memory_mb` when it set the pixel limit.
    let memoryBound: MemoryBound?

    /// - Parameters: see the properties.
    package init(limits: DecodeLimits, threadPool: NIOThreadPool, memoryBound: MemoryBound? = nil) {
        self.limits = memoryBound?.limits ?? limits
        self.threadPool = threadPool
        self.memoryBound = memoryBound
    }

    /// - Throws: 422 with ImageCore's reason.
    package func validate(_ upload: SpooledUpload) async throws {
        let (limits, memoryBound) = (self.limits, self.memoryBound)
        let path = upload.path
        let failure: String? = try await threadPool.runIfActive {
            // Mapped, not read: the pages come from the page cache the spool just filled.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            do {
                _ = try bytes.withUnsafeBytes { raw in
                    try ImageDecoder.decode(raw, limits: limits, minimumSize: (width: 1, height: 1))
                }
                return nil
            } catch let error as ImageError {
                // A refused limit names the knob that set it.
                return ThumbnailFunction.explain(error, memoryBound: memoryBound)
            } catch {
                return String(describing: error)
            }
        }
        if let failure { throw APIError.unprocessableImage("the image cannot be used: \(failure)") }
    }
}
