// For the JPEG fuzzer: picpipe's Huffman decoder and libjpeg-turbo's must agree on every input, byte for byte.

/// Decodes untrusted bytes with both Huffman decoders (`JPEGDecoder.Method.libjpegEntropy`) and compares.
package enum JPEGEntropyCheck {
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
            let ours = JPEGDecoder.decodeTellingDecoder(
                bytes, header: header, shrink: shrink, limits: limits, method: .init())
            let theirs = JPEGDecoder.decodeTellingDecoder(
                bytes, header: header, shrink: shrink, limits: limits, method: .init(libjpegEntropy: true))
            switch (ours.pixels, theirs.pixels) {
            case (.success(let a), .success(let b)):
                if a.width != b.width || a.height != b.height || a.bytes != b.bytes {
                    return "at 1/\(shrink) picpipe's Huffman decoder (\(ours.entropy)) gave other pixels than libjpeg-turbo's"
                }
            case (.failure(let a), .failure(let b)):
                if "\(a)" != "\(b)" { return "at 1/\(shrink) refused for other reasons: \(a) / \(b)" }
            case (.success, .failure(let error)):
                return "at 1/\(shrink) picpipe's decoder (\(ours.entropy)) accepted what libjpeg-turbo's refused: \(error)"
            case (.failure(let error), .success):
                return "at 1/\(shrink) picpipe's decoder (\(ours.entropy)) refused what libjpeg-turbo's accepted: \(error)"
            }
        }
        return nil
    }
}
