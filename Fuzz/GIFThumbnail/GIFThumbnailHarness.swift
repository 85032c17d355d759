// libFuzzer harness: GIF header probe, decode of the first frame and thumbnails (ImageCore, giflib).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a GIF.
enum GIFThumbnailHarness {
    /// Under libFuzzer a quarter of the other harnesses' cap. A GIF has no shrink-on-load: every input pays for
    /// its whole canvas in the resize kernels, whose pixel loops the coverage instrumentation slows most (`perf`
    /// on the corpus: most of the time in `Resizer` and `BoxShrink`; 470-620 executions a second, 1,500 with
    /// this cap). Those kernels are the same for every format and the JPEG, PNG and WebP harnesses fuzz them;
    /// what only this harness reaches, giflib and the frame-on-canvas code, behaves the same on a 512 x 512
    /// canvas as on a 1024 x 1024 one.
    #if FUZZING
        static let limits = DecodeLimits(maxPixels: 262_144, maxFileBytes: ThumbnailHarness.limits.maxFileBytes)
    #else
        static let limits = ThumbnailHarness.limits
    #endif

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        ThumbnailHarness.run(bytes, format: .gif, limits: limits)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: GIFThumbnailHarness.run)
    }
#endif

@main
enum GIFThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: GIFThumbnailHarness.run)
        #endif
    }
}
