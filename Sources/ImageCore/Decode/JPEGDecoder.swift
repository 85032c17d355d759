// JPEG pixels through libjpeg-turbo, via the C shim that owns setjmp and turns warnings into errors.

import CJPEGShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes JPEG data to RGB with libjpeg-turbo.
enum JPEGDecoder {
    /// The decode's buffer, read by the resize thread while the decode writes later rows.
    private struct SharedRows: @unchecked Sendable {
        // @unchecked Sendable: the resize reads only rows `DecodedRows` says are written (the decode never writes
        // them again), and `SpareCore.alongside` joins it before the buffer's owner (the decode's array) is done.
        let buffer: UnsafeBufferPointer<UInt8>
    }

    /// How a decode goes about it; the defaults are the fast ways, the others what the tests and benchmarks compare.
    struct Method: Sendable {
        /// Every scan of a progressive file even at 1/8 scale (where the first scans are enough).
        var allScans = false
        /// libjpeg-turbo's own Huffman decoder for single-scan files instead of picpipe's skipping one
        /// (`SkippingEntropyDecoder.c`).
        var libjpegEntropy = false

        /// `PICPIPE_BENCH_JPEG_ALL_SCANS=1` (the decode before the progressive early stop) and
        /// `PICPIPE_BENCH_JPEG_LIBJPEG_ENTROPY=1` (before picpipe's entropy decoder): benchmarks measure both ways
        /// in one run with one binary.
        static let standard = Method(
            allScans: getenv("PICPIPE_BENCH_JPEG_ALL_SCANS").map { String(cString: $0) == "1" } ?? false,
            libjpegEntropy: getenv("PICPIPE_BENCH_JPEG_LIBJPEG_ENTROPY").map { String(cString: $0) == "1" } ?? false)

        var options: Int32 {
            (allScans ? Int32(CJPEGShims_allScans) : 0) | (libjpegEntropy ? Int32(CJPEGShims_libjpegEntropy) : 0)
        }
    }

    /// Which Huffman decoder decoded a picture (`CJPEGShims_Status.entropy`).
    enum EntropyDecoder: Sendable, Equatable {
        /// libjpeg-turbo's: progressive, arithmetic-coded, multi-scan and 12-bit files, or `Method.libjpegEntropy`.
        case libjpeg
        /// picpipe's (`SkippingEntropyDecoder.c`).
        case skipping
        /// picpipe's declined the data (damaged or unusual) and libjpeg-turbo's decoded it again.
        case declined
    }

    static func decode(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits,
        method: Method = .standard
    ) throws(ImageError) -> PixelBuffer {
        try decodeTellingDecoder(bytes, header: header, shrink: shrink, limits: limits, method: method).pixels.get()
    }

    /// `decode`, and which Huffman decoder did it, also when the file was refused (what the tests check).
    /// - Parameter rowsWritten: told the rows decoded so far, every band (the tests: where a cancelled decode
    ///   stopped).
    static func decodeTellingDecoder(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits, method: Method,
        rowsWritten: ((Int) -> Void)? = nil
    ) -> (pixels: Result<PixelBuffer, ImageError>, entropy: EntropyDecoder) {
        let outcome = run(
            bytes, header: header, shrink: shrink, limits: limits, channels: 3, method: method
        ) { buffer, decode in decode(rowsWritten) }
        let pixels = outcome.decoded.map {
            PixelBuffer(width: $0.width, height: $0.height, channels: 3, bytes: $0.bytes)
        }
        return (pixels, outcome.entropy)
    }

    /// Decodes to RGB and, on a spare core (`SpareCore`), resizes the decode to `resized` at the same time, each band
    /// of rows as soon as it is decoded (`ImageResizer.resize(rowsOf:...)`): the decode is the serial part of a
    /// thumbnail, and most of the largest resize then hides behind it.
    /// - Returns: the decode, and the resize when a core was spare and the resize filters the decode's own rows
    ///   (else `nil`: the caller resizes as usual).
    static func decode(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits,
        resizingTo resized: (width: Int, height: Int)
    ) throws(ImageError) -> (PixelBuffer, PixelBuffer?) {
        var width: Int32 = 0
        var height: Int32 = 0
        CJPEGShims_scaledSize(Int32(header.width), Int32(header.height), Int32(shrink), &width, &height)
        let (sourceWidth, sourceHeight) = (Int(width), Int(height))
        guard
            ImageResizer.filtersSourceRows(
                sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: 3, width: resized.width,
                height: resized.height)
        else { return (try decode(bytes, header: header, shrink: shrink, limits: limits), nil) }
        var helped: PixelBuffer?
        let (decodedWidth, decodedHeight, pixels) = try run(
            bytes, header: header, shrink: shrink, limits: limits, channels: 3, method: .standard
        ) { buffer, decode in
            let rows = DecodedRows()
            let source = SharedRows(buffer: UnsafeBufferPointer(buffer))
            let (code, resize) = SpareCore.alongside({
                ImageResizer.resize(
                    rowsOf: source.buffer, sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: 3,
                    hasAlpha: false, width: resized.width, height: resized.height, rowsReady: rows.wait(for:))
            }) {
                // Ended also when the decode fails or is cancelled: the resize then stops waiting for rows.
                defer { rows.end() }
                return decode { rows.publish($0) }
            }
            helped = resize ?? nil
            return code
        }.decoded.get()
        return (PixelBuffer(width: decodedWidth, height: decodedHeight, channels: 3, bytes: pixels), helped)
    }

    /// Decodes a CMYK or YCCK JPEG to ink amounts (4 bytes a pixel, 0 = no ink) for an ICC transform.
    static func decodeInk(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits,
        method: Method = .standard
    ) throws(ImageError) -> (width: Int, height: Int, ink: [UInt8]) {
        let decoded = try run(bytes, header: header, shrink: shrink, limits: limits, channels: 4, method: method)
            .decoded.get()
        return (decoded.width, decoded.height, decoded.bytes)
    }

    /// The C decode of one call, given what to tell the rows written so far (`nil`: nobody); returns the shim's code.
    typealias ShimCall = (_ rowsWritten: ((Int) -> Void)?) -> Int32

    /// What the shim's progress callback reports to: the rows written, to whoever reads them, and the thread's
    /// `CancellationFlag`, which stops the decode at its next band.
    private final class ShimProgress {
        let rowsWritten: ((Int) -> Void)?
        let cancellation: CancellationFlag?

        init(rowsWritten: ((Int) -> Void)?, cancellation: CancellationFlag?) {
            self.rowsWritten = rowsWritten
            self.cancellation = cancellation
        }

        /// Runs `call` with the callback and its context, or with none when there is nothing to report to.
        func withCallback(_ call: (CJPEGShims_Progress?, UnsafeMutableRawPointer?) -> Int32) -> Int32 {
            guard rowsWritten != nil || cancellation != nil else { return call(nil, nil) }
            return withExtendedLifetime(self) {
                call(
                    { context, rows in
                        let progress = Unmanaged<ShimProgress>.fromOpaque(context!).takeUnretainedValue()
                        progress.rowsWritten?(Int(rows))
                        return progress.cancellation?.isCancelled == true ? 1 : 0
                    }, Unmanaged.passUnretained(self).toOpaque())
            }
        }
    }

    /// What one decode through the shim gave, and which Huffman decoder it took (known also when it failed).
    struct ShimOutcome {
        /// The decoded size and bytes (RGB or CMYK ink), or why there are none.
        var decoded: Result<(width: Int, height: Int, bytes: [UInt8]), ImageError>
        var entropy: EntropyDecoder
    }

    /// One decode through the shim: RGB (`channels` 3) or CMYK ink (`channels` 4).
    /// - Parameter around: runs the C decode (`ShimCall`) itself, given the output buffer: to read its rows on
    ///   another thread while they are decoded (they may be read until `around` returns, not after).
    private static func run(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, limits: DecodeLimits, channels: Int,
        method: Method, around: ((_ output: UnsafeMutableBufferPointer<UInt8>, _ decode: ShimCall) -> Int32)? = nil
    ) -> ShimOutcome {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return ShimOutcome(decoded: .failure(.truncated(detail: "no JPEG data")), entropy: .libjpeg)
        }
        var width: Int32 = 0
        var height: Int32 = 0
        CJPEGShims_scaledSize(Int32(header.width), Int32(header.height), Int32(shrink), &width, &height)
        let capacity = Int(width) * Int(height) * channels
        var status = CJPEGShims_Status()
        var outWidth: Int32 = 0
        var outHeight: Int32 = 0
        // Reduced decodes go on to a resize, which hides the small loss of the fast IDCT and plain upsampling.
        let fast: Int32 = shrink > 1 ? 1 : 0
        var code = 0
        let options = method.options
        let cancellation = CancellationFlag.current
        let pixels = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            if channels == 4 {
                code = Int(
                    ShimProgress(rowsWritten: nil, cancellation: cancellation).withCallback { callback, context in
                        CJPEGShims_decodeCMYK(
                            base, bytes.count, Int32(shrink), fast, options, Int64(limits.maxPixels),
                            buffer.baseAddress, capacity, &outWidth, &outHeight, &status, callback, context)
                    })
            } else {
                let output = buffer
                let call: ShimCall = { rowsWritten in
                    ShimProgress(rowsWritten: rowsWritten, cancellation: cancellation).withCallback {
                        callback, context in
                        CJPEGShims_decodeRGBReporting(
                            base, bytes.count, Int32(shrink), fast, options, Int64(limits.maxPixels),
                            output.baseAddress, capacity, &outWidth, &outHeight, &status, callback, context)
                    }
                }
                code = Int(around?(buffer, call) ?? call(nil))
            }
            // On failure the buffer is dropped; the bytes are plain UInt8, so no element needs deinitializing.
            initialized = code == CJPEGShims_ok ? capacity : 0
        }
        let entropy: EntropyDecoder
        switch Int(status.entropy) {
        case CJPEGShims_entropySkipping: entropy = .skipping
        case CJPEGShims_entropyDeclined: entropy = .declined
        default: entropy = .libjpeg
        }
        guard code == CJPEGShims_ok else {
            let failure = error(code: code, status: status, header: header, limits: limits, bytes: bytes)
            return ShimOutcome(decoded: .failure(failure), entropy: entropy)
        }
        guard Int(outWidth) == Int(width), Int(outHeight) == Int(height) else {
            let detail = "decoded size \(outWidth)x\(outHeight) differs from the header"
            return ShimOutcome(decoded: .failure(.corrupt(format: .jpeg, detail: detail)), entropy: entropy)
        }
        return ShimOutcome(decoded: .success((Int(width), Int(height), pixels)), entropy: entropy)
    }

    /// The error of a failed decode of `bytes`.
    static func error(
        code: Int, status: CJPEGShims_Status, header: ImageHeader, limits: DecodeLimits, bytes: UnsafeRawBufferPointer
    ) -> ImageError {
        let message = withUnsafeBytes(of: status.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch code {
        case CJPEGShims_stopped:
            return .cancelled
        case CJPEGShims_truncated:
            return .truncated(detail: message.isEmpty ? "premature end of JPEG data" : message)
        case CJPEGShims_tooManyPixels:
            return .tooManyPixels(width: header.width, height: header.height, limit: limits.maxPixels)
        case CJPEGShims_corruptWarning:
            return .corrupt(format: .jpeg, detail: message + " (damaged data is refused, not repaired)")
        default:
            // libjpeg-turbo refuses what it cannot decode as it refuses damage; the frame header tells them apart.
            if let unsupported = JPEGHeaderParser.unsupportedVariant(bytes) { return unsupported }
            return .corrupt(format: .jpeg, detail: message.isEmpty ? "libjpeg failed (code \(code))" : message)
        }
    }
}
