// For the JPEG fuzzer and the decoder's tests: picpipe's Huffman decoder and libjpeg-turbo's must agree on every
// input, byte for byte.

/// Decodes untrusted bytes with both Huffman decoders (`JPEGDecoder.Method.libjpegEntropy`) and compares.
package enum JPEGEntropyCheck {
    /// What one decode gave: the pixels, or the reason it refused them.
    enum Outcome: Equatable, CustomStringConvertible {
        case pixels(width: Int, height: Int, bytes: [UInt8])
        case refused(String)

        var description: String {
            switch self {
            case .pixels(let width, let height, _): "\(width)x\(height) pixels"
            case .refused(let message): "refused: \(message)"
            }
        }
    }

    /// `bytes` decoded at 1/`shrink` by picpipe's Huffman decoder (which declines to libjpeg-turbo's on anything
    /// unusual) and by libjpeg-turbo's alone, with the decoder each way ended up using.
    static func bothWays(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits
    ) -> (
        ours: Outcome, libjpeg: Outcome, entropy: JPEGDecoder.EntropyDecoder, libjpegEntropy: JPEGDecoder.EntropyDecoder
    ) {
        func decode(_ method: JPEGDecoder.Method) -> (Outcome, JPEGDecoder.EntropyDecoder) {
            let (result, entropy) = JPEGDecoder.decodeTellingDecoder(
                bytes, header: header, shrink: shrink, limits: limits, method: method)
            switch result {
            case .success(let pixels):
                return (.pixels(width: pixels.width, height: pixels.height, bytes: pixels.bytes), entropy)
            case .failure(let error): return (.refused("\(error)"), entropy)
            }
        }
        let (ours, entropy) = decode(JPEGDecoder.Method())
        let (libjpeg, libjpegEntropy) = decode(JPEGDecoder.Method(libjpegEntropy: true))
        return (ours, libjpeg, entropy, libjpegEntropy)
    }

    /// What differs between the two decodes of `bytes` at 1/2 and 1/8 (pixels, or the verdict), or `nil` when they
    /// agree (or the bytes are not a JPEG header picpipe reads).
    package static func disagreement(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) -> String? {
        // The limits are checked before any decode, as `Thumbnailer.render` checks them: the output buffer is sized
        // from the header.
        guard let header = try? ImageHeader.read(from: bytes), header.format == .jpeg,
            (try? limits.check(header)) != nil, (try? limits.check(fileBytes: bytes.count)) != nil
        else { return nil }
        // 1/2 reads every coefficient (as 1/1 does, at a quarter of the pixels), 1/8 skips the luma AC terms.
        for shrink in [2, 8] {
            let both = bothWays(bytes, header: header, shrink: shrink, limits: limits)
            switch (both.ours, both.libjpeg) {
            case (.pixels, .pixels):
                if both.ours != both.libjpeg {
                    return
                        "at 1/\(shrink) picpipe's Huffman decoder (\(both.entropy)) gave other pixels than libjpeg-turbo's"
                }
            case (.refused(let a), .refused(let b)):
                if a != b { return "at 1/\(shrink) refused for other reasons: \(a) / \(b)" }
            case (.pixels, .refused(let error)):
                return
                    "at 1/\(shrink) picpipe's decoder (\(both.entropy)) accepted what libjpeg-turbo's refused: \(error)"
            case (.refused(let error), .pixels):
                return
                    "at 1/\(shrink) picpipe's decoder (\(both.entropy)) refused what libjpeg-turbo's accepted: \(error)"
            }
        }
        return nil
    }
}
