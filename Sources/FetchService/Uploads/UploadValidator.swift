// The last check before an upload is kept: it must decode within the limits (so corrupt files and
// decompression bombs are refused with 422, pictures in a variant picpipe does not decode with 415, and both leave
// nothing behind).
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

    /// - Throws: 422 `unprocessable_image` with ImageCore's reason; 415 `unsupported_media_type` for an intact picture
    ///   in a variant picpipe does not decode (a 12-bit JPEG: until session 34 a 422 "corrupt JPEG data").
    package func validate(_ upload: SpooledUpload) async throws {
        let (limits, memoryBound) = (self.limits, self.memoryBound)
        let path = upload.path
        let failure: APIError? = try await threadPool.runIfActive {
            // Mapped, not read: the pages come from the page cache the spool just filled.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            do {
                _ = try bytes.withUnsafeBytes { raw in
                    try ImageDecoder.decode(raw, limits: limits, minimumSize: (width: 1, height: 1))
                }
                return nil
            } catch let error as ImageError {
                // A refused limit names the knob that set it.
                let reason = "the image cannot be used: " + ThumbnailFunction.explain(error, memoryBound: memoryBound)
                if case .unsupportedVariant = error { return APIError.unsupportedMediaType(reason) }
                return APIError.unprocessableImage(reason)
            } catch {
                return APIError.unprocessableImage("the image cannot be used: \(error)")
            }
        }
        if let failure { throw failure }
    }
}
